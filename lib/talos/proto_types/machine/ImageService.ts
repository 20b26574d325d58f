// Original file: proto/machine/image.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ImageServiceListRequest as _machine_ImageServiceListRequest, ImageServiceListRequest__Output as _machine_ImageServiceListRequest__Output } from '../machine/ImageServiceListRequest.ts';
import type { ImageServiceListResponse as _machine_ImageServiceListResponse, ImageServiceListResponse__Output as _machine_ImageServiceListResponse__Output } from '../machine/ImageServiceListResponse.ts';
import type { ImageServicePullRequest as _machine_ImageServicePullRequest, ImageServicePullRequest__Output as _machine_ImageServicePullRequest__Output } from '../machine/ImageServicePullRequest.ts';
import type { ImageServicePullResponse as _machine_ImageServicePullResponse, ImageServicePullResponse__Output as _machine_ImageServicePullResponse__Output } from '../machine/ImageServicePullResponse.ts';

export interface ImageServiceClient extends grpc.Client {
  List(argument: _machine_ImageServiceListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServiceListResponse__Output>;
  List(argument: _machine_ImageServiceListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServiceListResponse__Output>;
  list(argument: _machine_ImageServiceListRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServiceListResponse__Output>;
  list(argument: _machine_ImageServiceListRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServiceListResponse__Output>;
  
  Pull(argument: _machine_ImageServicePullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  Pull(argument: _machine_ImageServicePullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  pull(argument: _machine_ImageServicePullRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  pull(argument: _machine_ImageServicePullRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_machine_ImageServicePullResponse__Output>;
  
}

export interface ImageServiceHandlers extends grpc.UntypedServiceImplementation {
  List: grpc.handleServerStreamingCall<_machine_ImageServiceListRequest__Output, _machine_ImageServiceListResponse>;
  
  Pull: grpc.handleServerStreamingCall<_machine_ImageServicePullRequest__Output, _machine_ImageServicePullResponse>;
  
}

export interface ImageServiceDefinition extends grpc.ServiceDefinition {
  List: MethodDefinition<_machine_ImageServiceListRequest, _machine_ImageServiceListResponse, _machine_ImageServiceListRequest__Output, _machine_ImageServiceListResponse__Output>
  Pull: MethodDefinition<_machine_ImageServicePullRequest, _machine_ImageServicePullResponse, _machine_ImageServicePullRequest__Output, _machine_ImageServicePullResponse__Output>
}
