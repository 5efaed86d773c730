#!/usr/bin/env python3
"""Checks of deploy/ that no off-the-shelf tool does; called by .ci/check-deploy.

  checks.py manifests OVERLAY RENDERED.yaml   kinds, overlay invariants, CRD objects, rule sync
  checks.py alerts RULES.yaml OPERATIONS.md   annotations and runbook sections of every alert
  checks.py metrics CONTRACT FILE...          remediator_* names in rules/dashboards are in the contract
  checks.py dashboard DASHBOARD.json CONTRACT OUT.yaml
                                              dashboard structure; its queries as a rules file for promtool
  checks.py dockerfile Dockerfile             digests, features, no policy files in the image
  checks.py crates deny.toml Cargo.lock METADATA.json
                                              without cargo-deny: licences and sources of the locked
                                              graph against deny.toml; accepted advisories still apply
  checks.py license LICENSE Cargo.toml        the Apache-2.0 text, as Cargo.toml declares
  checks.py promrule RENDERED.yaml OUT.yaml   the rendered PrometheusRule's spec, for promtool

Each prints what it checked and exits 1 with one line per problem.
"""
import json
import re
import sys

import yaml

PROBLEMS = []


def problem(text):
    PROBLEMS.append(text)


def done(what):
    if PROBLEMS:
        for p in PROBLEMS:
            print(f"  FAIL {p}")
        sys.exit(1)
    print(f"  ok   {what}")


# ---------------------------------------------------------------- manifests

# Kinds the overlays may render: the Kubernetes ones are validated against the API schema by
# kubernetes-validate; the Prometheus Operator ones here.
CORE_KINDS = {"ServiceAccount": "v1", "Role": "rbac.authorization.k8s.io/v1",
              "RoleBinding": "rbac.authorization.k8s.io/v1", "ConfigMap": "v1", "Service": "v1",
              "StatefulSet": "apps/v1", "PodDisruptionBudget": "policy/v1",
              "NetworkPolicy": "networking.k8s.io/v1"}
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"),
             ("monitoring.coreos.com/v1", "PrometheusRule")}
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_servicemonitor(doc, services):
    # A reduced schema of monitoring.coreos.com/v1 ServiceMonitor: the fields used here, with the
    # CRD's types and patterns; no off-line validator bundles the operator's CRD schemas.
    spec = doc.get("spec", {})
    allowed = {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels",
               "podTargetLabels", "sampleLimit"}
    for key in spec:
        if key not in allowed:
            problem(f"ServiceMonitor {doc['metadata']['name']}: unexpected spec.{key}")
    labels = spec.get("selector", {}).get("matchLabels", {})
    if not labels:
        problem("ServiceMonitor: spec.selector.matchLabels is empty (it would match no Service)")
    matched = [s for s in services
               if all(s["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())]
    if not matched:
        problem(f"ServiceMonitor: selector {labels} matches no rendered Service")
    endpoints = spec.get("endpoints") or []
    if not endpoints:
        problem("ServiceMonitor: no endpoints")
    ep_allowed = {"port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels"}
    for ep in endpoints:
        for key in ep:
            if key not in ep_allowed:
                problem(f"ServiceMonitor endpoint: unexpected {key}")
        port_names = {p.get("name") for s in matched for p in s["spec"].get("ports", [])}
        if ep.get("port") not in port_names:
            problem(f"ServiceMonitor endpoint port {ep.get('port')!r} is not a port of the Service ({sorted(port_names)})")
        for key in ("interval", "scrapeTimeout"):
            if key in ep and not DURATION.match(str(ep[key])):
                problem(f"ServiceMonitor endpoint {key} {ep[key]!r} is not a Prometheus duration")
        if not str(ep.get("path", "/metrics")).startswith("/"):
            problem("ServiceMonitor endpoint path must start with /")


def cmd_manifests(overlay, rendered, rules_file):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    by_kind = {}
    for d in docs:
        kind = d.get("kind")
        if CORE_KINDS.get(kind) != d.get("apiVersion") and (d.get("apiVersion"), kind) not in CRD_KINDS:
            problem(f"unexpected kind {d.get('apiVersion')}/{kind}: add it to the checks deliberately")
        by_kind.setdefault(kind, []).append(d)
        if d["metadata"].get("namespace") != "remediator":
            problem(f"{kind}/{d['metadata'].get('name')}: namespace is {d['metadata'].get('namespace')!r}, not remediator")
    for kind in ("ServiceAccount", "ConfigMap", "Service", "StatefulSet", "PodDisruptionBudget",
                 "NetworkPolicy", "ServiceMonitor", "PrometheusRule"):
        if kind not in by_kind:
            problem(f"no {kind} rendered")
    if PROBLEMS:
        done("")
    sts = by_kind["StatefulSet"][0]
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = env_of(container)
    replicas = sts["spec"].get("replicas", 1)
    sa = by_kind["ServiceAccount"][0]
    token = pod.get("automountServiceAccountToken", sa.get("automountServiceAccountToken", True))
    has_role = "Role" in by_kind and "RoleBinding" in by_kind
    if overlay == "single":
        if replicas != 1:
            problem(f"single: replicas is {replicas}, not 1")
        if env.get("REMEDIATOR_LEADER_ELECTION") != "false":
            problem("single: REMEDIATOR_LEADER_ELECTION is not \"false\"")
        if token or has_role:
            problem("single: the pods get Kubernetes API access (token or Role) they do not need")
    elif overlay == "sharded":
        if replicas < 2:
            problem(f"sharded: replicas is {replicas}, expected 2 or more")
        if env.get("REMEDIATOR_LEADER_ELECTION") != "true":
            problem("sharded: REMEDIATOR_LEADER_ELECTION is not \"true\"")
        if env.get("REMEDIATOR_REPLICAS") != str(replicas):
            problem(f"sharded: REMEDIATOR_REPLICAS={env.get('REMEDIATOR_REPLICAS')} differs from replicas={replicas} (the sharding hash needs the real count)")
        names = {e["name"] for e in container.get("env", []) if "valueFrom" in e}
        for name in ("POD_NAME", "POD_NAMESPACE"):
            if name not in names:
                problem(f"sharded: {name} is not set from the downward API")
        if not token:
            problem("sharded: the ServiceAccount token is not mounted (leader election needs it)")
        if not has_role:
            problem("sharded: no Lease Role/RoleBinding")
        else:
            rules = by_kind["Role"][0]["rules"]
            if not any("coordination.k8s.io" in r.get("apiGroups", []) and "leases" in r.get("resources", []) for r in rules):
                problem("sharded: the Role does not grant coordination.k8s.io leases")
        apiserver = [n for n in by_kind["NetworkPolicy"] if "Egress" in n["spec"].get("policyTypes", [])
                     and any(p.get("port") in (443, 6443) for e in n["spec"].get("egress", []) for p in e.get("ports", []))
                     and n["metadata"]["name"] != "remediator"]
        if not apiserver:
            problem("sharded: no NetworkPolicy egress for the API server")
    # Both: the selectors agree, the probes and ports line up, the policies come from a volume.
    labels = sts["spec"]["template"]["metadata"]["labels"]
    for kind in ("PodDisruptionBudget",):
        sel = by_kind[kind][0]["spec"]["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(f"{kind} selector {sel} does not match the pods {labels}")
    for np in by_kind["NetworkPolicy"]:
        sel = np["spec"]["podSelector"].get("matchLabels", {})
        if any(labels.get(k) != v for k, v in sel.items()):
            problem(f"NetworkPolicy {np['metadata']['name']} selector {sel} does not match the pods")
    base_np = [n for n in by_kind["NetworkPolicy"] if n["metadata"]["name"] == "remediator"][0]
    if set(base_np["spec"]["policyTypes"]) != {"Ingress", "Egress"}:
        problem("NetworkPolicy remediator must restrict both Ingress and Egress")
    ports = {(p.get("protocol", "TCP"), p["port"]) for e in base_np["spec"]["egress"] for p in e.get("ports", [])}
    for want in (("UDP", 53), ("TCP", 53), ("TCP", 443)):
        if want not in ports:
            problem(f"NetworkPolicy remediator: no egress on {want[0]}/{want[1]}")
    ingress_ports = {p["port"] for i in base_np["spec"]["ingress"] for p in i.get("ports", [])}
    if ingress_ports != {9464}:
        problem(f"NetworkPolicy remediator: ingress ports {ingress_ports}, expected only 9464")
    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
    if mounts.get("/etc/remediator/policies") is None:
        problem("no volume mounted at /etc/remediator/policies (the image ships no policies)")
    check_servicemonitor(by_kind["ServiceMonitor"][0], by_kind["Service"])
    # The PrometheusRule's spec is the plain rules file, exactly.
    plain = yaml.safe_load(open(rules_file))
    spec = by_kind["PrometheusRule"][0]["spec"]
    if spec != plain:
        problem(f"PrometheusRule spec differs from {rules_file}: copy the groups over (components/monitoring/prometheusrule.yaml)")
    done(f"{overlay}: {len(docs)} objects; overlay invariants (replicas {replicas}, "
         f"leader election {env.get('REMEDIATOR_LEADER_ELECTION')}), NetworkPolicy, ServiceMonitor, "
         f"PrometheusRule == {rules_file}")


# ---------------------------------------------------------------- alerts


def slug(heading):
    """The anchor GitHub gives a Markdown heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def cmd_alerts(rules_file, operations):
    rules = yaml.safe_load(open(rules_file))
    anchors = {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", open(operations).read(), re.M)}
    doc_path = operations.split("/", 1)[-1] if operations.startswith("./") else operations
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            name = rule["alert"]
            names.add(name)
            ann = rule.get("annotations", {})
            for key in ("summary", "description", "runbook"):
                if not str(ann.get(key, "")).strip():
                    problem(f"{name}: no {key} annotation")
            if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                problem(f"{name}: severity label must be critical, warning or info")
            runbook = str(ann.get("runbook", ""))
            path, _, anchor = runbook.partition("#")
            if path != "docs/operations.md":
                problem(f"{name}: runbook {runbook!r} does not point into docs/operations.md")
            elif anchor not in anchors:
                problem(f"{name}: runbook anchor #{anchor} is not a heading of {doc_path}")
            elif anchor != name.lower():
                problem(f"{name}: runbook anchor #{anchor} should be the alert's own section (#{name.lower()})")
    done(f"{len(names)} alerts have summary, description, severity and a runbook section in {doc_path}")


# ---------------------------------------------------------------- metrics


def load_contract(path):
    metrics = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            name, kind, labels, status = line.split()
            metrics[name] = (kind, labels.split(","), status)
    return metrics


def names_in(expr, contract):
    """remediator_* metric names an expression uses, histogram series mapped to their family."""
    found = set()
    for token in re.findall(r"\bremediator_[A-Za-z0-9_]+", expr):
        name = token
        for suffix in ("_bucket", "_sum", "_count"):
            base = token[: -len(suffix)]
            if token.endswith(suffix) and contract.get(base, ("",))[0] == "histogram":
                name = base
        found.add(name)
    return found


def exprs_of(path):
    if path.endswith(".json"):
        return [e for e, _ in dashboard_exprs(json.load(open(path)))]
    rules = yaml.safe_load(open(path))
    if "spec" in rules:
        rules = rules["spec"]
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def cmd_metrics(contract_path, *files):
    contract = load_contract(contract_path)
    used = set()
    for f in files:
        for expr in exprs_of(f):
            for name in names_in(expr, contract):
                used.add(name)
                if name not in contract:
                    problem(f"{f}: {name} is not in {contract_path}")
    done(f"{len(used)} remediator_* metrics used by {', '.join(files)}: all in {contract_path}")


# ---------------------------------------------------------------- dashboard

# What the dashboard must show (the list), as the metrics that show it.
REQUIRED_PANELS = {
    "runs by result": "remediator_reconcile_runs_total",
    "run duration": "remediator_reconcile_duration_seconds",
    "actions by outcome": "remediator_actions_total",
    "findings open by kind": "remediator_findings_open",
    "org readable": "remediator_org_readable",
    "rate-limit waits": "remediator_okta_rate_limit_waits_total",
    "Okta requests by status": "remediator_okta_requests_total",
    "approvals pending": "remediator_approvals_pending",
    "circuit breaker": "remediator_circuit_breaker_open",
}
# Grafana's variables, replaced by something PromQL parses so promtool can check the queries.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d", "$org": ".+"}


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def dashboard_exprs(dash):
    out = []
    for p in all_panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if "expr" in t:
                out.append((t["expr"], p.get("title", "?")))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and isinstance(q, str):
            m = re.match(r"label_values\((.+),\s*\w+\)$", q.strip())
            out.append((m.group(1) if m else q, f"variable {v['name']}"))
    return out


def cmd_dashboard(path, contract_path, out):
    dash = json.load(open(path))
    contract = load_contract(contract_path)
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dash:
            problem(f"no {key}")
    variables = {v["name"] for v in dash.get("templating", {}).get("list", [])}
    ids = []
    rules = []
    shown = set()
    for p in all_panels(dash.get("panels", [])):
        ids.append(p.get("id"))
        g = p.get("gridPos", {})
        if not all(k in g for k in ("h", "w", "x", "y")) or g["x"] + g["w"] > 24:
            problem(f"panel {p.get('title')!r}: gridPos {g} is not within the 24-column grid")
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            problem(f"panel {p.get('title')!r} has no query")
        for t in p.get("targets", []):
            ds = t.get("datasource", p.get("datasource", {}))
            if ds.get("uid") != "${datasource}":
                problem(f"panel {p.get('title')!r}: query datasource is not the $datasource variable")
            for var in re.findall(r"\$(\w+)", t.get("expr", "")):
                if not var.startswith("__") and var not in variables:
                    problem(f"panel {p.get('title')!r}: ${var} is not a dashboard variable")
            shown |= names_in(t.get("expr", ""), contract)
    if len(ids) != len(set(ids)):
        problem("panel ids are not unique")
    for what, metric in REQUIRED_PANELS.items():
        if metric not in shown:
            problem(f"no panel shows {what} ({metric})")
    for i, (expr, where) in enumerate(dashboard_exprs(dash)):
        for name in names_in(expr, contract):
            if name not in contract:
                problem(f"{where}: {name} is not in {contract_path}")
        for var, value in GRAFANA_VARS.items():
            expr = expr.replace(var, value)
        rules.append({"record": f"dashboard:query_{i}", "expr": expr})
    with open(out, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f, sort_keys=False)
    done(f"{path}: valid JSON, {len(ids)} panels, unique ids, $datasource on every query, "
         f"{len(rules)} queries over contract metrics only (PromQL syntax: promtool, next)")


# ---------------------------------------------------------------- dockerfile


def cmd_dockerfile(path):
    lines = [l.strip() for l in open(path) if l.strip() and not l.lstrip().startswith("#")]
    froms = [l for l in lines if l.upper().startswith("FROM ")]
    for l in froms:
        image = l.split()[1]
        if not re.search(r"@sha256:[0-9a-f]{64}$", image):
            problem(f"base image not pinned by digest: {image}")
    features = [l for l in lines if l.startswith("ARG FEATURES")]
    if not features or "kubernetes" not in features[0]:
        problem("the image is not built with --features kubernetes by default (ARG FEATURES)")
    if not any("--features" in l for l in lines):
        problem("cargo build does not pass --features")
    last = max(i for i, l in enumerate(lines) if l.upper().startswith("FROM "))
    for l in lines[last:]:
        if l.upper().startswith(("COPY", "ADD")) and "polic" in l:
            problem(f"the runtime image gets policy files: {l}")
    done(f"{path}: {len(froms)} base images pinned by digest, --features kubernetes, no policies in the runtime image")


# ---------------------------------------------------------------- crates


def spdx_allowed(expr, allowed):
    """Whether an SPDX expression (A OR B, A AND B, A WITH X, parentheses, legacy A/B) is
    satisfied by the allowed licences, the way cargo-deny evaluates it."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expr.replace("/", " OR "))
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else None

    def take():
        pos[0] += 1
        return tokens[pos[0] - 1]

    def primary():
        if peek() == "(":
            take()
            value = disjunction()
            take()  # ")"
            return value
        lic = take()
        if peek() == "WITH":
            take()
            lic = f"{lic} WITH {take()}"
        return lic in allowed

    def conjunction():
        value = primary()
        while peek() == "AND":
            take()
            value = primary() and value
        return value

    def disjunction():
        value = conjunction()
        while peek() == "OR":
            take()
            value = conjunction() or value
        return value

    return disjunction()


def cmd_crates(deny_toml, lockfile, metadata_json):
    import tomllib
    deny = tomllib.load(open(deny_toml, "rb"))
    allowed = set(deny["licenses"]["allow"])
    registries = set(deny["sources"].get("allow-registry", []))
    meta = json.load(open(metadata_json))
    # The crates that are built into remediator: the resolve graph from the workspace, without
    # dev-dependency edges (cargo-deny checks no licences of dev-dependencies either: they are
    # not distributed). Sources are checked for every locked crate.
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    shipped, stack = set(), list(meta["workspace_members"])
    while stack:
        node = stack.pop()
        if node in shipped:
            continue
        shipped.add(node)
        for dep in nodes[node]["deps"]:
            if any(k.get("kind") != "dev" for k in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    used = set()
    count = 0
    for pkg in meta["packages"]:
        if pkg.get("source") is None:
            continue  # this workspace
        source = pkg["source"]
        if not any(source == f"registry+{r}" or source == f"sparse+{r}" for r in registries):
            problem(f"{pkg['name']} {pkg['version']}: source {source} is not allowed (deny.toml [sources])")
        if pkg["id"] not in shipped:
            continue
        count += 1
        lic = pkg.get("license")
        if not lic:
            problem(f"{pkg['name']} {pkg['version']}: no licence expression (add a [[licenses.clarify]])")
        elif not spdx_allowed(lic, allowed):
            problem(f"{pkg['name']} {pkg['version']}: licence {lic!r} is not allowed by deny.toml")
        else:
            used |= {l for l in allowed if l in lic}
    for lic in sorted(allowed - used):
        problem(f"deny.toml allows {lic!r}, which no locked crate uses: remove it")
    locked = set(re.findall(r'^name = "([^"]+)"', open(lockfile).read(), re.M))
    for entry in deny["advisories"].get("ignore", []):
        crate = entry["reason"].split(":", 1)[0]
        if crate not in locked:
            problem(f"deny.toml accepts {entry['id']} for {crate}, which is no longer locked: drop the entry")
    done(f"{count} crates built into remediator (all features): licences allowed by deny.toml; "
         f"{len(meta['packages']) - 1} locked crates from crates.io only; "
         f"{len(deny['advisories'].get('ignore', []))} accepted advisories still name locked crates")


def cmd_license(license_file, cargo_toml):
    import hashlib
    import tomllib
    declared = tomllib.load(open(cargo_toml, "rb"))["package"].get("license")
    if declared != "Apache-2.0":
        problem(f"Cargo.toml declares license {declared!r}; LICENSE holds Apache-2.0")
    digest = hashlib.sha256(open(license_file, "rb").read()).hexdigest()
    # sha256 of the Apache Software Foundation's LICENSE-2.0.txt, unmodified.
    if digest != "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30":
        problem(f"{license_file} is not the unmodified Apache License 2.0 text (sha256 {digest})")
    done(f"{license_file} is the Apache License 2.0 text, as Cargo.toml declares")


def cmd_promrule(rendered, out):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d and d.get("kind") == "PrometheusRule"]
    if len(docs) != 1:
        problem(f"expected one PrometheusRule in {rendered}, found {len(docs)}")
        done("")
    with open(out, "w") as f:
        yaml.safe_dump(docs[0]["spec"], f, sort_keys=False)
    done(f"PrometheusRule {docs[0]['metadata']['name']}: spec extracted for promtool")


if __name__ == "__main__":
    commands = {"manifests": cmd_manifests, "alerts": cmd_alerts, "metrics": cmd_metrics,
                "dashboard": cmd_dashboard, "dockerfile": cmd_dockerfile, "crates": cmd_crates,
                "license": cmd_license, "promrule": cmd_promrule}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    commands[sys.argv[1]](*sys.argv[2:])
