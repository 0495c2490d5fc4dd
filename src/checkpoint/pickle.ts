/**
 * A restricted unpickler: it decodes the data opcodes of Python's pickle protocols 2 to 5
 * (what `torch.save` writes) and hands every opcode that could import or call something
 * (GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID) to hooks that allow only a fixed
 * set of names. Opcodes that build arbitrary objects (INST, OBJ, EXT*, NEWOBJ_EX) and the
 * text-protocol opcodes are refused. Nothing in the data is ever executed.
 *
 * Python values map to JS as: None → null, bool → boolean, int → number (bigint beyond
 * 2^53), float → number, str → string, bytes → Uint8Array, list → array, tuple → frozen
 * array, dict → {@link PickleDict} (a Map), set → Set.
 *
 * The decoder is a loop over the bytes with bounds checks on every read: damaged or
 * truncated data throws an error naming the byte offset; it cannot hang or read outside the
 * buffer.
 *
 * @module
 */

/** A Python dict (or OrderedDict): a Map, plus the attributes a BUILD opcode set on it. */
export class PickleDict extends Map<unknown, unknown> {
  /** Attributes set by BUILD (a state dict's `_metadata`, for one). */
  attributes: Record<string, unknown> = {};
  /** True for a collections.OrderedDict. */
  readonly ordered: boolean;

  /** An empty dict (`ordered` for a collections.OrderedDict). */
  constructor(ordered = false) {
    super();
    this.ordered = ordered;
  }
}

/** A Python global (module + name) that the hooks allowed. */
export class PickleGlobal {
  /** A global `module.name`; `kind` says what the loader allowed it as. */
  constructor(readonly module: string, readonly name: string, readonly kind: string) {}
  /** "module.name" */
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
  /** For messages and inspection. */
  toString(): string {
    return this.fullName;
  }
}

/** The unpickler's calls out for the opcodes that import, call or load. */
export interface UnpickleHooks {
  /** GLOBAL / STACK_GLOBAL: the value of an allowed global; throw to refuse. */
  findGlobal(module: string, name: string): unknown;
  /** REDUCE: `fn(*args)` for an allowed callable; throw to refuse. */
  call(fn: unknown, args: readonly unknown[]): unknown;
  /** NEWOBJ: `cls.__new__(cls, *args)`; throw to refuse. */
  newObject(cls: unknown, args: readonly unknown[]): unknown;
  /** BUILD on something other than a dict: throw to refuse. */
  build(target: unknown, state: unknown): void;
  /** BINPERSID: the object a persistent id stands for. */
  persistentLoad(pid: unknown): unknown;
}

/** Thrown for malformed pickle data and refused operations; `offset` is the opcode's byte. */
export class UnpickleError extends Error {
  /** An error at byte `offset` of the pickle. */
  constructor(message: string, readonly offset: number, options?: ErrorOptions) {
    super(`byte ${offset}: ${message}`, options);
    this.name = "UnpickleError";
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextDecoder("utf-8");

const REFUSED: Record<number, string> = {
  0x69: "INST (builds an arbitrary object)",
  0x6f: "OBJ (builds an arbitrary object)",
  0x82: "EXT1 (extension registry)",
  0x83: "EXT2 (extension registry)",
  0x84: "EXT4 (extension registry)",
  0x92: "NEWOBJ_EX (builds an arbitrary object)",
  0x50: "PERSID (text persistent id)",
  0x49: "INT (text protocol)",
  0x4c: "LONG (text protocol)",
  0x53: "STRING (text protocol)",
  0x56: "UNICODE (text protocol)",
  0x46: "FLOAT (text protocol)",
  0x70: "PUT (text protocol)",
  0x67: "GET (text protocol)",
  0x64: "DICT (text protocol)",
  0x6c: "LIST (text protocol)",
  0x97: "NEXT_BUFFER (out-of-band buffers)",
  0x98: "READONLY_BUFFER (out-of-band buffers)",
};

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

function isList(v: unknown): v is unknown[] {
  return Array.isArray(v) && !Object.isFrozen(v);
}

/** True for a decoded Python tuple. */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** Decodes one pickle. Throws UnpickleError for malformed data and refused operations. */
export function unpickle(data: Uint8Array, hooks: UnpickleHooks): unknown {
  const state = { op: 0 };
  try {
    return run(data, hooks, state);
  } catch (e) {
    if (e instanceof UnpickleError) throw e;
    // Defence in depth: any other failure still comes out as a clear error.
    throw new UnpickleError(`cannot decode: ${(e as Error).message}`, state.op, { cause: e });
  }
}

// deno-lint-ignore hlgm/max-function-lines -- the pickle VM: one switch over the opcodes, read as the protocol's table
function run(data: Uint8Array, hooks: UnpickleHooks, state: { op: number }): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  let pos = 0;
  let op = 0; // offset of the current opcode, for messages

  const fail: (message: string) => never = (message) => {
    throw new UnpickleError(message, op);
  };
  const need = (n: number, what: string): number => {
    if (pos + n > data.length) {
      fail(`truncated pickle: ${what} needs ${n} bytes, ${data.length - pos} left`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => data[need(1, "argument")];
  const u16 = () => dv.getUint16(need(2, "argument"), true);
  const u32 = () => dv.getUint32(need(4, "argument"), true);
  const u64 = (): number => {
    const v = dv.getBigUint64(need(8, "argument"), true);
    if (v > MAX_SAFE) fail(`length ${v} is implausibly large`);
    return Number(v);
  };
  const bytes = (n: number, what: string): Uint8Array => {
    const at = need(n, what);
    return data.subarray(at, at + n);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail("truncated pickle: GLOBAL name has no end of line");
    const s = utf8.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail("stack underflow (damaged pickle)");
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow (damaged pickle)");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return fail("no MARK to pop to (damaged pickle)");
    stack = prev;
    return items;
  };
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UnpickleError) throw e;
      throw new UnpickleError((e as Error).message, op, { cause: e });
    }
  };
  const setItem = (d: unknown, k: unknown, v: unknown) => {
    if (!(d instanceof PickleDict)) fail("SETITEM on something that is not a dict");
    (d as PickleDict).set(k, v);
  };

  while (true) {
    if (pos >= data.length) fail("truncated pickle: ended without a STOP opcode");
    op = state.op = pos;
    const code = data[pos++];
    switch (code) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME (length of the next frame: only a read-ahead hint)
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) fail("stack underflow (damaged pickle)");
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x74: { // TUPLE
        const items = popMark(); // (popMark replaces `stack`: take the items first)
        stack.push(Object.freeze(items));
        break;
      }
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail("ADDITEMS on something that is not a set");
        for (const x of items) (s as Set<unknown>).add(x);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) fail("SETITEMS with an odd number of items");
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const l = top();
        if (!isList(l)) fail("APPEND on something that is not a list");
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!isList(l)) fail("APPENDS on something that is not a list");
        for (const x of items) (l as unknown[]).push(x);
        break;
      }
      case 0x4a: // BININT
        stack.push(dv.getInt32(need(4, "BININT"), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8(), "LONG1")));
        break;
      case 0x8b: { // LONG4
        const n = u32();
        if (n > 4096) fail(`LONG4 of ${n} bytes is implausibly large`);
        stack.push(decodeLong(bytes(n, "LONG4")));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(dv.getFloat64(need(8, "BINFLOAT"), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32(), "BINUNICODE")));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8(), "SHORT_BINUNICODE")));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64(), "BINUNICODE8")));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str: decoded as UTF-8, as torch.load does)
        stack.push(utf8.decode(bytes(u8(), "SHORT_BINSTRING")));
        break;
      case 0x54: // BINSTRING
        stack.push(utf8.decode(bytes(u32(), "BINSTRING")));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8(), "SHORT_BINBYTES").slice());
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32(), "BINBYTES").slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64(), "BINBYTES8").slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64(), "BYTEARRAY8").slice());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const i = code === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} was never stored (damaged pickle)`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        stack.push(guard(() => hooks.findGlobal(module, name)));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        stack.push(guard(() => hooks.findGlobal(module as string, name as string)));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!isTuple(args)) fail("REDUCE arguments are not a tuple");
        stack.push(guard(() => hooks.call(fn, args as readonly unknown[])));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        if (!isTuple(args)) fail("NEWOBJ arguments are not a tuple");
        stack.push(guard(() => hooks.newObject(cls, args as readonly unknown[])));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        if (target instanceof PickleDict) {
          // state is a dict of attributes, or a (dict, slots dict) pair
          const parts = isTuple(state) && state.length === 2 ? state : [state];
          for (const part of parts) {
            if (part === null) continue;
            if (!(part instanceof PickleDict)) fail("BUILD state for a dict is not a dict");
            for (const [k, v] of part as PickleDict) {
              if (typeof k !== "string") fail("BUILD attribute name is not a string");
              Object.defineProperty(target.attributes, k as string, {
                value: v,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            }
          }
        } else {
          guard(() => hooks.build(target, state));
        }
        break;
      }
      case 0x51: // BINPERSID
        stack.push(guard(() => hooks.persistentLoad(pop())));
        break;
      default: {
        const what = REFUSED[code];
        fail(
          what
            ? `pickle opcode 0x${code.toString(16)} ${what} is not supported`
            : `unknown pickle opcode 0x${code.toString(16).padStart(2, "0")} (damaged data?)`,
        );
      }
    }
  }
}
