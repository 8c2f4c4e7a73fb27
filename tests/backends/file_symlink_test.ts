import assert from "node:assert/strict";
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";

// Issue 12 item 10: writing through a symlinked store path replaced the link
// with a regular file and left the target stale. Writes now go to the link's
// target (resolved at each write); the link stays a link.

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-file-link-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("file: a write through a symlinked store path updates the target and keeps the link", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/volume`);
    await Deno.mkdir(`${dir}/app`);
    const target = `${dir}/volume/secrets.json`;
    const link = `${dir}/app/secrets.json`;
    const key = generateFileKey();
    const direct = new FileSecretManager({ path: target, key });
    await direct.setSecret("db/password", "first-password-1");
    await Deno.symlink(target, link);

    const viaLink = new FileSecretManager({ path: link, key });
    const written = await viaLink.setSecret("db/password", "second-password-2");
    assert.equal(written.version, "2");

    assert.ok((await Deno.lstat(link)).isSymlink, "the link is still a link");
    assert.equal(await Deno.realPath(link), target);
    assert.equal(
      await direct.getSecret("db/password"),
      "second-password-2",
      "the target is updated",
    );
    assert.equal(await viaLink.getSecret("db/password"), "second-password-2");
    assert.equal(((await Deno.stat(target)).mode ?? 0) & 0o777, 0o600);
    const left = [...Deno.readDirSync(`${dir}/app`)].map((e) => e.name);
    assert.deepEqual(left, ["secrets.json"], "no lock or temp file beside the link");
    await viaLink.close();
    await direct.close();
  });
});

Deno.test("file: writers through the link and through the target share one lock and lose nothing", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/volume`);
    const target = `${dir}/volume/secrets.json`;
    const link = `${dir}/secrets.json`;
    await Deno.symlink("volume/secrets.json", link); // a relative link, target not created yet
    const key = generateFileKey();
    const viaLink = new FileSecretManager({ path: link, key });
    const direct = new FileSecretManager({ path: target, key });
    const values = Array.from({ length: 10 }, (_, i) => `value-${i}-${crypto.randomUUID()}`);
    const written = await Promise.all(
      values.map((v, i) => (i % 2 === 0 ? viaLink : direct).setSecret("shared/key", v)),
    );
    assert.ok(
      (await Deno.lstat(link)).isSymlink,
      "a dangling link is written through, not replaced",
    );
    for (const [i, v] of written.entries()) {
      assert.equal(await direct.getSecret("shared/key", { version: v.version }), values[i]);
    }
    assert.equal(new Set(written.map((v) => v.version)).size, values.length);
    await viaLink.close();
    await direct.close();
  });
});

Deno.test("file: a chain of links is followed to the file at its end", async () => {
  await withDir(async (dir) => {
    const key = generateFileKey();
    const end = `${dir}/end.json`;
    await Deno.symlink(end, `${dir}/middle.json`);
    await Deno.symlink(`${dir}/middle.json`, `${dir}/start.json`);
    const secrets = new FileSecretManager({ path: `${dir}/start.json`, key });
    await secrets.setSecret("api/token", "tok-0123456789");
    assert.ok((await Deno.lstat(`${dir}/start.json`)).isSymlink);
    assert.ok((await Deno.lstat(`${dir}/middle.json`)).isSymlink);
    assert.ok((await Deno.lstat(end)).isFile);
    await secrets.close();
    // A loop is a clear error, and nothing is written.
    await Deno.symlink(`${dir}/loop-b.json`, `${dir}/loop-a.json`);
    await Deno.symlink(`${dir}/loop-a.json`, `${dir}/loop-b.json`);
    const looped = new FileSecretManager({ path: `${dir}/loop-a.json`, key });
    await assert.rejects(looped.setSecret("api/token", "tok-0123456789"), /loop|cannot be/);
    await looped.close();
  });
});
