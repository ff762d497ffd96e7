import { modelProtoType, ONNX_ATTR, ONNX_DTYPE } from "./onnx_proto.js";
import type { AttrValue, Dim, GraphBuilder, Initializer, NodeSpec, ValueInfo } from "./graph_builder.js";

export interface ModelOptions {
  /** Default opset 17: LayerNormalization is there, and ReduceMean still takes `axes` as an attribute. */
  readonly opset?: number;
  /** Default 8 (the IR version of opset 17); ORT 1.30 accepts up to 11. */
  readonly irVersion?: number;
  readonly docString?: string;
}

/** Serialises a built graph to ONNX ModelProto bytes. */
export function serializeModel(graph: GraphBuilder, opts: ModelOptions = {}): Uint8Array {
  const type = modelProtoType();
  const model = {
    ir_version: opts.irVersion ?? 8,
    producer_name: "spatial-reward",
    producer_version: "1",
    doc_string: opts.docString ?? "",
    opset_import: [{ domain: "", version: opts.opset ?? 17 }],
    graph: graphMessage(graph),
  };
  const err = type.verify(model);
  if (err !== null) throw new Error(`graph builder: ModelProto does not verify: ${err}`);
  return type.encode(type.fromObject(model)).finish();
}

function graphMessage(g: GraphBuilder): Record<string, unknown> {
  return {
    name: g.name,
    node: g.nodes.map(nodeMessage),
    initializer: g.initializers.map(tensorMessage),
    input: g.inputs.map(valueInfoMessage),
    output: g.outputs.map(valueInfoMessage),
  };
}

function nodeMessage(n: NodeSpec): Record<string, unknown> {
  return {
    name: n.name,
    op_type: n.opType,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs).map(([name, v]) => attributeMessage(name, v)),
  };
}

function attributeMessage(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`graph builder: attribute ${name} = ${v} is not an integer (use float(x) for floats)`);
    return { name, type: ONNX_ATTR.INT, i: v };
  }
  if (typeof v === "string") return { name, type: ONNX_ATTR.STRING, s: new TextEncoder().encode(v) };
  if (isNumberList(v)) return { name, type: ONNX_ATTR.INTS, ints: [...v] };
  if ("kind" in v && v.kind === "float") return { name, type: ONNX_ATTR.FLOAT, f: v.value };
  if ("kind" in v && v.kind === "floats") return { name, type: ONNX_ATTR.FLOATS, floats: [...v.values] };
  return { name, type: ONNX_ATTR.GRAPH, g: graphMessage(v as GraphBuilder) };
}

function isNumberList(v: AttrValue): v is readonly number[] {
  return Array.isArray(v);
}

function tensorMessage(t: Initializer): Record<string, unknown> {
  const d = t.data;
  return {
    name: t.name,
    data_type: ONNX_DTYPE[t.type],
    dims: [...t.dims],
    // raw_data is little-endian by the spec; typed arrays are host-endian, which is little on every
    // platform onnxruntime-node ships for.
    raw_data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

function valueInfoMessage(v: ValueInfo): Record<string, unknown> {
  const tensorType: Record<string, unknown> = { elem_type: ONNX_DTYPE[v.type] };
  if (v.dims !== undefined) tensorType.shape = { dim: v.dims.map(dimMessage) };
  return { name: v.name, type: { tensor_type: tensorType } };
}

function dimMessage(d: Dim): Record<string, unknown> {
  return typeof d === "number" ? { dim_value: d } : { dim_param: d };
}
