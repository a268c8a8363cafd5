/**
 * Characters decoded before each parse step; bounds the text held at once.
 * Small enough that a step's parsed rows (an array each) die young: at
 * 1 Mi characters a file of 2-byte rows built half a million arrays a step
 * and spent a third of its scan collecting them; at 256 Ki a valid file
 * scans as fast.
 */
export const TEXT_CHUNK_CHARS = 1 << 18;

const NOT_UTF8 = "the file is not valid UTF-8 text; save it as UTF-8 CSV";
const UTF16 = 'the file is not UTF-8 text: it looks like UTF-16 ("Unicode text"); save it as UTF-8 CSV (in Excel: "CSV UTF-8")';

/**
 * Whether the file's first two bytes say UTF-16: its byte order mark, or —
 * without one — a NUL byte beside the first character, as UTF-16 writes
 * every ASCII character (after it little-endian, before it big-endian).
 * UTF-8 text never starts with a NUL.
 */
function looksUtf16(b0: number, b1: number): boolean {
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return true;
  return (b0 === 0) !== (b1 === 0);
}

function joinBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * The file's bytes as text, decoded a read at a time: `text` holds what is
 * decoded and not yet parsed, bounded by the chunk size (or the longest
 * row, itself bounded by the file limit) whatever the file's length.
 */
export class CsvText {
  /** Decoded text not yet consumed. */
  text = "";
  /** The file has been read to its end. */
  done = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  /** The file's first bytes, held until two are known (see looksUtf16); null once checked. */
  private head: Uint8Array | null = new Uint8Array(0);
  /**
   * Text held before the next parse step. A row longer than a chunk stays
   * unconsumed; waiting for the text to double before parsing it again keeps
   * the work linear in the row's length (it is re-read from its start).
   */
  private parseAt: number;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly chunkChars: number,
  ) {
    this.reader = stream.getReader();
    this.parseAt = chunkChars;
  }

  /** Reads until a parse step's worth of text is held or the file has ended; the refusal's sentence when the bytes are not UTF-8 text. */
  async fill(): Promise<string | null> {
    do {
      const refusal = await this.readOnce();
      if (refusal !== null) return refusal;
    } while (!this.done && this.text.length < this.parseAt);
    return null;
  }

  /** Drops characters off the front that are not for the parser (a BOM, a sep= line). */
  skip(chars: number): void {
    this.text = this.text.slice(chars);
  }

  /** Drops the characters a parse step consumed; what is left waits for twice its length in text. */
  consume(chars: number): void {
    this.text = this.text.slice(chars);
    this.parseAt = Math.max(this.chunkChars, 2 * this.text.length);
  }

  /** One read of the stream, decoded onto `text`. A stream that fails to read is refused as not UTF-8, as a decoding error is. */
  private async readOnce(): Promise<string | null> {
    try {
      const { value, done } = await this.reader.read();
      let bytes: Uint8Array | undefined = value;
      if (this.head !== null) {
        // The first bytes are held until two are known (a file of one byte is over before).
        const known: Uint8Array = bytes ? joinBytes(this.head, bytes) : this.head;
        if (known.length >= 2 && looksUtf16(known[0]!, known[1]!)) return UTF16;
        if (known.length >= 2 || done) {
          this.head = null;
          bytes = known;
        } else {
          this.head = known;
          bytes = undefined;
        }
      }
      if (bytes?.length) this.text += this.decoder.decode(bytes, { stream: true });
      if (done) this.text += this.decoder.decode();
      this.done = done;
      return null;
    } catch {
      return NOT_UTF8;
    }
  }
}
