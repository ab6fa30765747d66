// `mixpanel-import` against the sandbox: events (service account, project secret), identities,
// user and group profiles with each directive, the raw export and the profile export. Its
// endpoints are fixed to Mixpanel's hosts, so it runs with `node --require ./redirect.js`.
"use strict";
const fs = require("fs");
const path = require("path");
const mpImport = require("mixpanel-import");

const env = process.env;
const account = { acct: env.SANDBOX_USERNAME, pass: env.SANDBOX_PASSWORD, project: env.SANDBOX_PROJECT_ID };
const secret = { secret: env.SANDBOX_SECRET, project: env.SANDBOX_PROJECT_ID };
const token = { token: env.SANDBOX_TOKEN };
const out = env.OUTPUT_DIR;
const quiet = { verbose: false, logs: false, showProgress: false };
const past = Math.floor(Date.now() / 1000) - 3600;
const today = new Date().toISOString().slice(0, 10);
// events sent an hour ago may fall on yesterday just after midnight (UTC)
const yesterday = new Date(Date.now() - 86400 * 1000).toISOString().slice(0, 10);
const results = {};

function event(name, n, props = {}) {
  return { event: name, properties: { distinct_id: "mi-1", time: past, $insert_id: `mi-${n}`, ...props } };
}

async function step(name, creds, data, options) {
  const summary = await mpImport(creds, data, { ...quiet, ...options });
  results[name] = { success: summary.success, failed: summary.failed, total: summary.total };
  if (summary.failed || (data && summary.success !== data.length)) {
    throw new Error(`${name}: ${JSON.stringify({ ...summary, responses: summary.responses, errors: summary.errors })}`);
  }
}

async function main() {
  await step("events, service account", account, [event("mi imported", 1, { via: "service account" })], { recordType: "event" });
  await step("events, secret", secret, [event("mi imported", 2, { via: "secret" })], { recordType: "event" });
  await step("identities", account, [
    event("$create_alias", 3, { alias: "mi-alias" }),
    { event: "$merge", properties: { $distinct_ids: ["mi-1", "mi-merged"], token: env.SANDBOX_TOKEN } },
  ], { recordType: "event", fixData: false });
  // records in their flat shape; fixData (documented) makes each an /engage or /groups update
  const user = (props) => [{ $distinct_id: "mi-1", ...props }];
  await step("$set", token, user({ $name: "Import", plan: "pro" }), { recordType: "user", fixData: true });
  await step("$set_once", token, user({ first: "yes", plan: "never" }), { recordType: "user", fixData: true, directive: "$set_once" });
  await step("$add", token, user({ logins: 5 }), { recordType: "user", fixData: true, directive: "$add" });
  await step("$append", token, user({ seen: "a" }), { recordType: "user", fixData: true, directive: "$append" });
  await step("$union", token, user({ tags: ["x", "y"] }), { recordType: "user", fixData: true, directive: "$union" });
  await step("$remove", token, user({ tags: "x" }), { recordType: "user", fixData: true, directive: "$remove" });
  await step("$unset", token, user({ first: "" }), { recordType: "user", fixData: true, directive: "$unset" });
  await step("merged $set", token, [{ $distinct_id: "mi-merged", merged: true }], { recordType: "user", fixData: true });
  const group = (props) => [{ company: "acme", ...props }]; // keyed by the groupKey column
  const groupCreds = { ...token, groupKey: "company" };
  await step("group $set", groupCreds, group({ size: 10 }), { recordType: "group", fixData: true });
  await step("group $set_once", groupCreds, group({ size: 99, founded: 1999 }), { recordType: "group", fixData: true, directive: "$set_once" });
  await step("group $union", groupCreds, group({ regions: ["eu", "us"] }), { recordType: "group", fixData: true, directive: "$union" });
  await step("group $remove", groupCreds, group({ regions: "us" }), { recordType: "group", fixData: true, directive: "$remove" });
  await step("group $unset", groupCreds, group({ founded: "" }), { recordType: "group", fixData: true, directive: "$unset" });
  const exported = await mpImport(account, null, { ...quiet, recordType: "export", start: yesterday, end: today, where: out });
  results.export = { total: exported.total, file: exported.file || null };
  const people = await mpImport(account, null, { ...quiet, recordType: "profile-export", where: out });
  results.profileExport = { total: people.total, file: people.file || null };
  fs.writeFileSync(path.join(out, "results.json"), JSON.stringify(results, null, 1));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
