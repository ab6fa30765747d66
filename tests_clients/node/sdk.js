// The official `mixpanel` node SDK against the sandbox, with only its `host` (and `port`) option.
// Every call must succeed; the Python test then reads the data back through the connector.
"use strict";
const Mixpanel = require("mixpanel");

const env = process.env;
const options = { host: "127.0.0.1", port: Number(env.SANDBOX_PORT) };
const mp = Mixpanel.init(env.SANDBOX_TOKEN, options);
const withSecret = Mixpanel.init(env.SANDBOX_TOKEN, { ...options, secret: env.SANDBOX_SECRET });
const verbose = Mixpanel.init(env.SANDBOX_TOKEN, { ...options, verbose: true });

function call(fn, ...args) {
  return new Promise((resolve, reject) =>
    fn(...args, (err) => (err ? reject(err) : resolve())),
  );
}

async function main() {
  const past = Math.floor(Date.now() / 1000) - 3600;
  await call(mp.track.bind(mp), "node tracked", { distinct_id: "node-1", plan: "pro" });
  await call(verbose.track.bind(verbose), "node verbose", { distinct_id: "node-1" });
  await call(mp.track_batch.bind(mp), [
    { event: "node batch", properties: { distinct_id: "node-1", n: 1 } },
    { event: "node batch", properties: { distinct_id: "node-1", n: 2 } },
  ]);
  await call(withSecret.import.bind(withSecret), "node imported", past, {
    distinct_id: "node-1",
    $insert_id: "node-imported-1",
  });
  await call(withSecret.import_batch.bind(withSecret), [
    { event: "node import batch", properties: { distinct_id: "node-1", time: past, $insert_id: "nib-1" } },
    { event: "node import batch", properties: { distinct_id: "node-1", time: past, $insert_id: "nib-2" } },
  ]);
  await call(mp.alias.bind(mp), "node-1", "node-alias");
  const people = mp.people;
  await call(people.set.bind(people), "node-1", { $name: "Node", plan: "pro" });
  await call(people.set_once.bind(people), "node-1", { first: "yes", plan: "never" });
  await call(people.increment.bind(people), "node-1", "logins", 3);
  await call(people.append.bind(people), "node-1", "seen", "a");
  await call(people.union.bind(people), "node-1", { tags: ["x", "y"] });
  await call(people.remove.bind(people), "node-1", { tags: "x" });
  await call(people.unset.bind(people), "node-1", "first");
  await call(people.track_charge.bind(people), "node-1", 7);
  await call(people.set.bind(people), "node-alias", "via_alias", true);
  await call(people.set.bind(people), "node-charged", { a: 1 });
  await call(people.track_charge.bind(people), "node-charged", 3);
  await call(people.clear_charges.bind(people), "node-charged");
  await call(people.set.bind(people), "node-gone", { a: 1 });
  await call(people.delete_user.bind(people), "node-gone");
  const groups = mp.groups;
  await call(groups.set.bind(groups), "company", "acme", { size: 10 });
  await call(groups.set_once.bind(groups), "company", "acme", { size: 99, founded: 1999 });
  await call(groups.union.bind(groups), "company", "acme", { regions: ["eu", "us"] });
  await call(groups.remove.bind(groups), "company", "acme", { regions: "us" });
  await call(groups.unset.bind(groups), "company", "acme", "founded");
  await call(groups.set.bind(groups), "company", "gone", { x: 1 });
  await call(groups.delete_group.bind(groups), "company", "gone");
  console.log("node sdk: every call answered 1");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
