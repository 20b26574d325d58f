/** @module Proto files are embedded as text by Bun's `with { type: "text" }` imports. */
declare module "*.proto" {
  const text: string;
  export default text;
}
