/**
 * The one rule for "a process like this one" (`foreignPeer`), which a client applies to its runner
 * and a runner to its clients: against real processes and the real `/proc`.
 */
import assert from "node:assert/strict";
import { foreignPeer, ownState } from "../../src/cli/_runner_socket.ts";

const linux = Deno.build.os === "linux";
/** One slot per namespace compared. */
const NAMESPACE_COUNT = linux ? ownState().namespaces : [];

Deno.test({
  name: "foreignPeer(): this process is like itself, with its state read now or given",
  ignore: !linux,
  fn() {
    assert.equal(foreignPeer(Deno.pid), undefined);
    assert.equal(foreignPeer(Deno.pid, undefined, ownState()), undefined);
  },
});

Deno.test({
  name: "foreignPeer(): a process confined otherwise (no_new_privs) is not like this one",
  ignore: !linux,
  async fn() {
    const confined = new Deno.Command("setpriv", { args: ["--no-new-privs", "sleep", "30"] })
      .spawn();
    try {
      // Its exec done: until then it is still this process's child as forked.
      for (let i = 0; i < 100; i++) {
        if (Deno.readTextFileSync(`/proc/${confined.pid}/status`).includes("NoNewPrivs:\t1")) {
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const own = ownState();
      assert.match(foreignPeer(confined.pid, undefined, own) ?? "", /ids, capabilities or filters/);
    } finally {
      confined.kill();
      await confined.status;
    }
  },
});

Deno.test({
  name: "foreignPeer(): a process that cannot be read is never like this one",
  ignore: !linux,
  async fn() {
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    // Nothing of it can be read: no namespace, root, status or limits to compare, and no
    // unreadable field may count as equal to this process's.
    assert.notEqual(foreignPeer(gone.pid), undefined);
    assert.notEqual(foreignPeer(gone.pid, undefined, ownState()), undefined);
    // Nor when this process's own links could not be read either (no /proc of its own).
    const blind = { ...ownState(), namespaces: NAMESPACE_COUNT.map(() => undefined) };
    assert.match(foreignPeer(gone.pid, undefined, blind) ?? "", /namespace/);
  },
});

Deno.test({
  name: "foreignPeer(): the state it is given is what it compares with",
  ignore: !linux,
  fn() {
    const own = ownState();
    const other = {
      ...own,
      status: own.status.replace(/^Uid:.*$/m, "Uid:\t4242\t4242\t4242\t4242"),
    };
    assert.notEqual(other.status, own.status);
    assert.match(foreignPeer(Deno.pid, undefined, other) ?? "", /ids, capabilities or filters/);
    const elsewhere = { ...own, namespaces: own.namespaces.map(() => "mnt:[1]") };
    assert.match(foreignPeer(Deno.pid, undefined, elsewhere) ?? "", /another mnt namespace/);
  },
});
