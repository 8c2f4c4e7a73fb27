import assert from "node:assert/strict";
import { nameFromPath, PathNames, rawPathOf } from "../../server/_names.ts";

const PREFIX = "/v1/secrets/";

Deno.test("PathNames answers as nameFromPath does, the first time and again, for names and refusals", () => {
  const names = new PathNames(PREFIX, 4);
  const urls = [
    "http://localhost/v1/secrets/database/app",
    "http://localhost/v1/secrets/database%2Fapp",
    "http://localhost/v1/secrets/a%2E%2E/b",
    "http://localhost/v1/secrets/a%252F",
    "http://localhost/v1/secrets/x?stage=previous",
    "http://localhost/v1/secrets/",
    "http://localhost/v1/secrets/caf%C3%A9",
    "http://localhost/v1/secrets/%ZZ",
  ];
  for (let round = 0; round < 3; round++) {
    for (const url of urls) {
      assert.deepEqual(names.parse(url), nameFromPath(rawPathOf(url), PREFIX), url);
    }
  }
});

Deno.test("PathNames answers stay right past its bound (the map starts over) and between refusals", () => {
  const names = new PathNames(PREFIX, 2);
  for (let i = 0; i < 10; i++) {
    assert.equal(names.parse(`http://localhost/v1/secrets/app/${i}`).ok, true);
    assert.equal(names.parse(`http://localhost/v1/secrets/app%2F${i}`).ok, false);
  }
  assert.deepEqual(names.parse("http://localhost/v1/secrets/app/9"), { ok: true, name: "app/9" });
});
