// Original file: proto/machine/lifecycle.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { LifecycleServiceUpgradeRequest as _machine_LifecycleServiceUpgradeRequest, LifecycleServiceUpgradeRequest__Output as _machine_LifecycleServiceUpgradeRequest__Output } from '../machine/LifecycleServiceUpgradeRequest.ts';
import type { LifecycleServiceUpgradeResponse as _machine_LifecycleServiceUpgradeResponse, LifecycleServiceUpgradeResponse__Output as _machine_LifecycleServiceUpgradeResponse__Output } from '../machine/LifecycleServiceUpgradeResponse.ts';

export interface LifecycleServiceClient extends grpc.Client {
  Upgrade(argument: _machine_LifecycleServiceUpgradeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_LifecycleServiceUpgradeResponse__Output>;
  Upgrade(argument: _machine_LifecycleServiceUpgradeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_LifecycleServiceUpgradeResponse__Output>;
  upgrade(argument: _machine_LifecycleServiceUpgradeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_LifecycleServiceUpgradeResponse__Output>;
  upgrade(argument: _machine_LifecycleServiceUpgradeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_LifecycleServiceUpgradeResponse__Output>;
  
}

export interface LifecycleServiceHandlers extends grpc.UntypedServiceImplementation {
  Upgrade: grpc.handleServerStreamingCall<_machine_LifecycleServiceUpgradeRequest__Output, _machine_LifecycleServiceUpgradeResponse>;
  
}

export interface LifecycleServiceDefinition extends grpc.ServiceDefinition {
  Upgrade: MethodDefinition<_machine_LifecycleServiceUpgradeRequest, _machine_LifecycleServiceUpgradeResponse, _machine_LifecycleServiceUpgradeRequest__Output, _machine_LifecycleServiceUpgradeResponse__Output>
}
