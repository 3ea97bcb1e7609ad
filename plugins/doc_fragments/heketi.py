# Copyright: (c) 2026, glusterfs.heketi developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Connection options shared by every module that talks to Heketi.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - URL of the Heketi server, for example V(http://heketi.example.com:8080).
      - If not set, the value of the E(HEKETI_CLI_SERVER) environment variable is used; one of both is required.
      - A URL carrying a user name or password (C(user:password@host)) is refused, since the key would be echoed in
        messages. Give O(user) and O(key) instead.
    type: str
    aliases: [server]
  user:
    description:
      - JWT issuer Heketi authenticates, V(admin) or V(user).
      - If not set, the value of the E(HEKETI_CLI_USER) environment variable is used, then V(admin).
      - Managing clusters, nodes, devices and polling asynchronous operations needs V(admin).
    type: str
    default: admin
  key:
    description:
      - The secret of O(user), as set in C(jwt.admin.key) or C(jwt.user.key) of C(heketi.json).
      - If not set, the value of the E(HEKETI_CLI_KEY) environment variable is used. Without a key the module
        fails before sending any request.
      - Never logged. Give it from Ansible Vault as this option; setting E(HEKETI_CLI_KEY) through a task's
        C(environment) keyword puts the key into the environment of the remote command, where C(ps) and
        C(-vvv) output can show it.
    type: str
    aliases: [secret]
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(url) uses V(https).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authority that signed the server's certificate, on the host the module runs on.
        With the C(glusterfs.heketi.heketi) role's C(heketi_tls) it is C(/etc/heketi/tls/ca.crt) on the Heketi host.
      - If not set, the value of the E(HEKETI_CLI_CA_PATH) environment variable is used (the heketi role's
        C(/etc/heketi/heketi-cli.env) sets it); without either the system's trust store is used.
      - Heketi is reached directly; proxies set in the environment (C(http_proxy), C(https_proxy)) are not used.
    type: path
  timeout:
    description:
      - Overall number of seconds one Heketi operation may take, including polling its queue entry
        and retrying while the server answers HTTP 429 (busy).
    type: int
    default: 600
notes:
  - Answers larger than 16 MiB (C(MAX_RESPONSE_BYTES) of the client), JSON nested deeper than 64 levels and a
    successful answer that is not a JSON object are refused with an error naming the request.
  - A POST or DELETE is never sent twice. When the connection breaks after one was sent, the module fails
    saying so (Heketi may have made the change); check the state and run again. Only a GET is sent again.
  - Every request is signed with its own short-lived HS256 JSON Web Token (claims C(iss), C(iat), C(exp), C(qsh)),
    so the clocks of the controller (or the host the module runs on) and the Heketi server must agree within two minutes.
  - The connection options can be set once for every Heketi module with C(module_defaults) and the action group
    C(group/glusterfs.heketi.heketi).
attributes:
  action_group:
    description: Use C(group/glusterfs.heketi.heketi) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - glusterfs.heketi.heketi
'''
