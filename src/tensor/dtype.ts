/**
 * Element types and their mapping to libtorch's ScalarType codes and JS typed arrays.
 *
 * @module
 */

/** Element type of a tensor. */
export type DType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/** The typed array that holds a dtype's elements on the host. */
export type TypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

// c10::ScalarType enum values (stable across libtorch 1.x and 2.x).
const CODES: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(
  Object.entries(CODES).map(([name, code]) => [code, name as DType]),
);

/** libtorch's ScalarType code for a dtype. */
export function dtypeCode(dtype: DType): number {
  const code = CODES[dtype];
  if (code === undefined) {
    throw new TypeError(
      `unknown dtype "${dtype}"; expected one of ${Object.keys(CODES).join(", ")}`,
    );
  }
  return code;
}

/** The dtype for a ScalarType code. */
export function dtypeFromCode(code: number): DType {
  const dtype = BY_CODE.get(code);
  if (!dtype) throw new TypeError(`libtorch returned an unsupported scalar type code ${code}`);
  return dtype;
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  switch (dtype) {
    case "float64":
    case "int64":
      return 8;
    case "float32":
    case "int32":
      return 4;
    case "float16":
    case "bfloat16":
    case "int16":
      return 2;
    default:
      return 1;
  }
}

/** True for floating-point dtypes. */
export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}

/** Allocates a host typed array for `n` elements of a dtype (float16/bfloat16 are not host types). */
export function allocTyped(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "int16":
      return new Int16Array(n);
    case "int8":
      return new Int8Array(n);
    case "uint8":
    case "bool":
      return new Uint8Array(n);
    default:
      throw new TypeError(`${dtype} has no host array type; convert with .to("float32") first`);
  }
}

/** The dtype a typed array maps to. */
export function dtypeOfTyped(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int8Array) return "int8";
  return "uint8";
}
