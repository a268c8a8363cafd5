import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors";
import { readUploadForm, uploadHash } from "../../src/routes/upload-form";

const CSV = "phone_number\n+12125550101\n";
const prod = { drainOverLimit: false, drainMaxBytes: 0 };

function formRequest(form: FormData, headers: Record<string, string> = {}): Request {
  return new Request("https://batch.test/v1/api/batch-calls", { method: "POST", body: form, headers });
}

function form(fields: [string, string | Blob][]): FormData {
  const f = new FormData();
  for (const [k, v] of fields) {
    if (typeof v === "string") f.append(k, v);
    else f.append(k, v, "people.csv");
  }
  return f;
}

async function refusal(req: Request): Promise<ApiError> {
  const err = await readUploadForm(req, prod).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe("readUploadForm", () => {
  it("decodes the file part and every other field as text", async () => {
    const upload = await readUploadForm(
      formRequest(
        form([
          ["agentId", "agent_1"],
          ["file", new Blob([CSV])],
          ["name", "March"],
        ]),
      ),
      prod,
    );
    expect(upload.fields).toEqual({ agentId: "agent_1", name: "March" });
    expect(upload.file.name).toBe("people.csv");
    expect(await upload.file.text()).toBe(CSV);
  });

  it("takes a file part sent without a filename as the file, without a name", async () => {
    const upload = await readUploadForm(formRequest(form([["file", CSV]])), prod);
    expect(upload.file).toBeInstanceOf(File);
    expect({ name: upload.file.name, type: upload.file.type, text: await upload.file.text() }).toEqual({ name: "", type: "text/csv", text: CSV });
    expect(upload.fields).toEqual({});
  });

  it("refuses a body without a file part, one that is not multipart, and one without a boundary", async () => {
    expect(await refusal(formRequest(form([["agentId", "a"]])))).toMatchObject({ code: "missing_file", status: 400 });
    const json = new Request("https://batch.test/", { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(await refusal(json)).toMatchObject({ code: "unsupported_media_type", status: 415 });
    const bare = new Request("https://batch.test/", { method: "POST", body: "x", headers: { "content-type": "multipart/form-data" } });
    expect(await refusal(bare)).toMatchObject({ code: "multipart_boundary_missing", status: 400 });
  });

  it("refuses a declared Content-Length over the limit before reading the body", async () => {
    const req = new Request("https://batch.test/", {
      method: "POST",
      body: "x",
      headers: { "content-type": "multipart/form-data; boundary=b", "content-length": String(30 * 1024 * 1024) },
    });
    const err = await refusal(req);
    expect(err).toMatchObject({ code: "payload_too_large", status: 413 });
    expect(req.bodyUsed).toBe(false);
  });
});

describe("uploadHash", () => {
  const hashOf = (fields: Record<string, string>, text: string) => uploadHash({ fields, file: new File([text], "a.csv") });

  it("binds the fields in any order and the file's bytes, not its name", async () => {
    const base = await hashOf({ agentId: "a", name: "March" }, CSV);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashOf({ name: "March", agentId: "a" }, CSV)).toBe(base);
    expect(await uploadHash({ fields: { agentId: "a", name: "March" }, file: new File([CSV], "other-name.csv") })).toBe(base);
    expect(await hashOf({ agentId: "a", name: "April" }, CSV)).not.toBe(base);
    expect(await hashOf({ agentId: "a", name: "March" }, `${CSV}+12125550102\n`)).not.toBe(base);
  });
});
