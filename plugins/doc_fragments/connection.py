# -*- coding: utf-8 -*-

# Copyright: (c) 2026, litmus.lem contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The connection options of every litmus.lem module and plugin, documented once.

    Two variants of the same options: modules state their environment
    fallbacks in the description (validate-modules refuses C(env:) on
    modules), plugins such as the inventory declare C(env:) entries.
    The argument spec they describe lives in module_utils/_module.py.
    """

    DOCUMENTATION = r"""
options:
  lem_url:
    description:
      - Base URL of Litmus Edge Manager, C(https://host[:port]). A trailing C(/) is fine; a path, a query or credentials are refused.
      - C(http://) works, with a warning that the token then travels in clear text.
      - If not set, the value of the E(LEM_URL) environment variable is used.
      - Requests go through the proxy named by E(HTTPS_PROXY) or E(HTTP_PROXY), unless E(NO_PROXY) excludes the host.
    type: str
    required: true
  lem_token:
    description:
      - API token of LEM, created under C(System > Access Control > Tokens).
      - It is sent to the host of O(lem_url) only, never to the storage the pre-signed upload URL points at.
      - If not set, the value of the E(LEM_API_TOKEN) environment variable is used.
    type: str
    required: true
  auth_mode:
    description:
      - How the token is sent.
      - "V(basic) sends C(Authorization: Basic base64(token + \":\")), the token as user name and an empty password."
      - "V(header) sends C(X-AuthToken: token)."
      - V(auto) sends both, because LEM versions differ in which one they read.
      - If not set, the value of the E(LEM_AUTH_MODE) environment variable is used.
    type: str
    choices: [auto, basic, header]
    default: auto
  project_id:
    description:
      - Id of the LEM project the models and devices belong to.
      - If not set, the value of the E(LEM_PROJECT_ID) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify LEM's TLS certificate.
      - LEM ships a self-signed certificate; the safe way to trust it is O(ca_path), not turning this off.
      - The E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables are ignored, only O(ca_path) and this option decide.
      - If not set, the value of the E(LEM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for LEM, for example the CA that signed a self-signed LEM.
      - Without it, the CA bundle of the C(certifi) package that C(requests) uses is trusted.
      - If not set, the value of the E(LEM_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for LEM to accept a connection or to answer one API request.
      - If not set, the value of the E(LEM_TIMEOUT) environment variable is used.
    type: float
    default: 30
  retries:
    description:
      - How many times a transient failure is retried, with capped, jittered exponential backoff that honours C(Retry-After) (capped at 60 seconds).
      - Transient failures are a connection that failed before the request was sent, and the answers 429, 502, 503 and 504.
      - Reads are also retried when the connection broke after the request was sent; the upload steps and deletion are not,
        and a rerun finishes them.
      - The deployment request is repeated only where LEM certainly did not act on it (a connection that failed before sending, or 429).
    type: int
    default: 3
notes:
  - "The module talks to LEM from the host it runs on: run it on the controller (C(delegate_to: localhost))."
requirements:
  - requests
"""

    PLUGINS = r"""
options:
  lem_url:
    description:
      - Base URL of Litmus Edge Manager, C(https://host[:port]). A trailing C(/) is fine; a path, a query or credentials are refused.
      - C(http://) works, with a warning that the token then travels in clear text.
      - Requests go through the proxy named by E(HTTPS_PROXY) or E(HTTP_PROXY), unless E(NO_PROXY) excludes the host.
    type: str
    required: true
    env:
      - name: LEM_URL
  lem_token:
    description:
      - API token of LEM, created under C(System > Access Control > Tokens).
      - It is sent to the host of O(lem_url) only.
    type: str
    required: true
    env:
      - name: LEM_API_TOKEN
  auth_mode:
    description:
      - How the token is sent.
      - "V(basic) sends C(Authorization: Basic base64(token + \":\")), the token as user name and an empty password."
      - "V(header) sends C(X-AuthToken: token)."
      - V(auto) sends both, because LEM versions differ in which one they read.
    type: str
    choices: [auto, basic, header]
    default: auto
    env:
      - name: LEM_AUTH_MODE
  project_id:
    description:
      - Id of the LEM project the devices belong to.
    type: str
    required: true
    env:
      - name: LEM_PROJECT_ID
  validate_certs:
    description:
      - Whether to verify LEM's TLS certificate.
      - LEM ships a self-signed certificate; the safe way to trust it is O(ca_path), not turning this off.
      - The E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables are ignored, only O(ca_path) and this option decide.
    type: bool
    default: true
    env:
      - name: LEM_VALIDATE_CERTS
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for LEM, for example the CA that signed a self-signed LEM.
      - Without it (or when it is empty), the CA bundle of the C(certifi) package that C(requests) uses is trusted.
      - A leading C(~) is expanded.
    type: str
    env:
      - name: LEM_CA_PATH
  timeout:
    description:
      - Seconds to wait for LEM to accept a connection or to answer one API request.
    type: float
    default: 30
    env:
      - name: LEM_TIMEOUT
  retries:
    description:
      - How many times a transient failure is retried, with capped, jittered exponential backoff that honours C(Retry-After).
      - Transient failures are a connection that failed before the request was sent, and the answers 429, 502, 503 and 504.
    type: int
    default: 3
"""
