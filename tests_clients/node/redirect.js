// A documented, minimal redirect for a client with no host option (loaded with `node --require`):
// TLS connections to mixpanel.com or *.mixpanel.com on port 443 go to the sandbox's port on
// 127.0.0.1 instead. The server name is kept, so the client still checks the certificate (which
// the sandbox's CA issued for those names) as it would Mixpanel's; nothing else is changed.
"use strict";
const tls = require("tls");

const port = Number(process.env.SANDBOX_PORT);
const original = tls.connect;
const MIXPANEL = /(^|\.)mixpanel\.com$/;

tls.connect = function connect(...args) {
  const options = args[0];
  if (options && typeof options === "object") {
    const host = options.host || options.hostname || options.servername || "";
    if (MIXPANEL.test(host) && [undefined, null, "", 443, "443"].includes(options.port)) {
      args[0] = { ...options, host: "127.0.0.1", port, servername: options.servername || host };
    }
  }
  return original.apply(this, args);
};
