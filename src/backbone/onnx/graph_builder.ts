import { serializeModel, type ModelOptions } from "./onnx_model.js";

/**
 * A small DSL for writing ONNX graphs in TypeScript. Values are named by strings; `node`
 * returns its outputs' names (made unique automatically), so graphs read like straight-line
 * code. Weights enter as initializers; linear layers store their weight pre-transposed
 * ([in, out]) so the graph is a plain MatMul with no runtime Transpose. Pure: no files, no
 * onnxruntime; `toModelBytes` gives the serialised ModelProto (see onnx_model.ts).
 */

export type ElemType = "float" | "int64" | "int32" | "bool";
/** A dimension: a size, or a symbolic name ("B", "T") for a size fixed at run time. */
export type Dim = number | string;

/** A float-valued attribute (plain numbers are INT attributes, so floats are said explicitly). */
export interface FloatAttr {
  readonly kind: "float";
  readonly value: number;
}
export interface FloatsAttr {
  readonly kind: "floats";
  readonly values: readonly number[];
}
/** An attribute value: an integer, a list of integers, a string, a float, or a subgraph. */
export type AttrValue = number | readonly number[] | string | FloatAttr | FloatsAttr | GraphBuilder;
export type Attrs = Readonly<Record<string, AttrValue>>;

export const float = (value: number): FloatAttr => ({ kind: "float", value });
export const floats = (values: readonly number[]): FloatsAttr => ({ kind: "floats", values });

export interface ValueInfo {
  readonly name: string;
  readonly type: ElemType;
  /** Absent: shape unknown (allowed for Scan body values). */
  readonly dims: readonly Dim[] | undefined;
}

export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface Initializer {
  readonly name: string;
  readonly type: ElemType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
  readonly name: string;
  readonly domain: string;
}

/** Shared between a graph and its subgraphs: ONNX wants value names unique across scopes. */
class NameAllocator {
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();

  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph builder: value name ${JSON.stringify(name)} is already defined`);
    this.used.add(name);
    return name;
  }

  fresh(stem: string): string {
    let n = this.counters.get(stem) ?? 0;
    let name = `${stem}_${n}`;
    while (this.used.has(name)) name = `${stem}_${++n}`;
    this.counters.set(stem, n + 1);
    this.used.add(name);
    return name;
  }
}

/** Largest int64 used as "to the end" in Slice (ORT clamps it). */
export const SLICE_END = 2 ** 53 - 1;

export class GraphBuilder {
  readonly name: string;
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly nodes: NodeSpec[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names: NameAllocator;
  private readonly constCache = new Map<string, string>();

  constructor(name: string, names?: NameAllocator) {
    this.name = name;
    this.names = names ?? new NameAllocator();
  }

  /** A body graph (Scan, Loop, If) sharing this graph's names; it may read this graph's values. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this.names);
  }

  input(name: string, type: ElemType, dims?: readonly Dim[]): string {
    this.inputs.push({ name: this.names.claim(name), type, dims });
    return name;
  }

  /**
   * Declares a graph output named `name` carrying `value` (an Identity is added when the value
   * has another name, so internal names never leak into the contract).
   */
  output(name: string, type: ElemType, dims: readonly Dim[] | undefined, value: string = name): string {
    if (value !== name) this.node("Identity", [value], [name]);
    this.outputs.push({ name, type, dims });
    return name;
  }

  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`graph builder: initializer ${name} has ${data.length} values for dims [${dims.join(", ")}]`);
    this.initializers.push({ name: this.names.claim(name), type: elemTypeOf(data), dims: [...dims], data });
    return name;
  }

  /** A small constant, shared when the same values are asked for again. */
  constant(data: TensorData, dims: readonly number[], stem = "const"): string {
    const key = data.length <= 64 ? `${elemTypeOf(data)}|${dims.join(",")}|${Array.from(data as ArrayLike<number | bigint>, String).join(",")}` : null;
    const hit = key === null ? undefined : this.constCache.get(key);
    if (hit !== undefined) return hit;
    const name = this.names.fresh(stem);
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`graph builder: constant has ${data.length} values for dims [${dims.join(", ")}]`);
    this.initializers.push({ name, type: elemTypeOf(data), dims: [...dims], data });
    if (key !== null) this.constCache.set(key, name);
    return name;
  }

  /** int64 constant: a scalar (dims []) for a number, a 1-D tensor for a list. */
  ints(values: number | readonly number[]): string {
    if (typeof values === "number") return this.constant(BigInt64Array.of(BigInt(values)), [], "i64");
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), [values.length], "i64");
  }

  /** fp32 constant: a scalar for a number, else with the given dims (default 1-D). */
  floats(values: number | Float32Array | readonly number[], dims?: readonly number[]): string {
    if (typeof values === "number") return this.constant(Float32Array.of(values), dims ?? [], "f32");
    const a = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.constant(a, dims ?? [a.length], "f32");
  }

  /**
   * Adds a node. `outputs` is a count of fresh outputs (default 1) or explicit names.
   * Returns the output names in order.
   */
  node(opType: string, inputs: readonly string[], outputs: number | readonly string[] = 1, attrs: Attrs = {}, domain = ""): string[] {
    const outs = typeof outputs === "number"
      ? Array.from({ length: outputs }, () => this.names.fresh(opType.toLowerCase()))
      : outputs.map((o) => this.names.claim(o));
    this.nodes.push({ opType, inputs: [...inputs], outputs: outs, attrs, name: this.names.fresh(`n_${opType}`), domain });
    return outs;
  }

  /** A node with one output; returns its name. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.node(opType, inputs, 1, attrs)[0];
  }

  /** The model's ModelProto bytes (what `new InferenceSession(bytes)` loads). */
  toModelBytes(opts: ModelOptions = {}): Uint8Array {
    return serializeModel(this, opts);
  }

  // Helpers used by every graph. Each returns the name of its result.

  add(a: string, b: string): string {
    return this.op("Add", [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op("Mul", [a, b]);
  }
  matmul(a: string, b: string): string {
    return this.op("MatMul", [a, b]);
  }
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.op("Unsqueeze", [x, this.ints(axes)]);
  }
  squeeze(x: string, axes: readonly number[]): string {
    return this.op("Squeeze", [x, this.ints(axes)]);
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.op("Reshape", [x, this.ints(shape)]);
  }
  transpose(x: string, perm: readonly number[]): string {
    return this.op("Transpose", [x], { perm });
  }
  concat(xs: readonly string[], axis: number): string {
    return xs.length === 1 ? xs[0] : this.op("Concat", xs, { axis });
  }
  /** Slice along one axis; `end` may be SLICE_END for "to the end", negatives count from the end. */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.op("Slice", [x, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
  /** x[..., i, ...] along `axis`, removing that axis (Gather with a scalar index). */
  pick(x: string, axis: number, index: number): string {
    return this.op("Gather", [x, this.ints(index)], { axis });
  }
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op("ReduceSum", [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  silu(x: string): string {
    return this.mul(x, this.op("Sigmoid", [x]));
  }

  /**
   * y = x Wᵀ (+ b) for a PyTorch-layout weight W [out, in]: W is stored transposed as an
   * initializer [in, out] so the runtime runs one MatMul (plus one Add with a bias).
   */
  linear(x: string, name: string, weight: Float32Array, outDim: number, inDim: number, bias?: Float32Array): string {
    const wt = this.initializer(`${name}.weight_t`, transpose2d(weight, outDim, inDim), [inDim, outDim]);
    const y = this.matmul(x, wt);
    return bias === undefined ? y : this.add(y, this.initializer(`${name}.bias`, bias, [outDim]));
  }

  /** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. */
  rmsNorm(x: string, weightName: string, weight: Float32Array, eps: number): string {
    const ms = this.op("ReduceMean", [this.mul(x, x)], { axes: [-1], keepdims: 1 });
    const inv = this.op("Reciprocal", [this.op("Sqrt", [this.add(ms, this.floats(eps))])]);
    return this.mul(this.mul(x, inv), this.initializer(weightName, weight, [weight.length]));
  }
}

/** W [rows, cols] row-major → Wᵀ [cols, rows]. */
export function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

function elemTypeOf(data: TensorData): ElemType {
  if (data instanceof Float32Array) return "float";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
}
