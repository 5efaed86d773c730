//! The configuration examples shipped in deploy/ are valid daemon configurations, and the
//! Kubernetes manifests hold what docs/daemon.md promises (probes, scrape annotations, a
//! journal volume, the Lease permissions).

use std::path::Path;

use remediator::config::CredentialSource;
use remediator::daemon::{DaemonConfig, OrgCredentials};
use serde_yaml_ng::Value;

fn yaml_documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("manifest");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

#[test]
fn the_systemd_example_config_is_valid() {
    let config = DaemonConfig::load(Path::new("deploy/config/remediator.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.listen.to_string(), "127.0.0.1:9464");
    assert_eq!(config.orgs[0].name, "prod");
    assert_eq!(
        config.orgs[0].credentials,
        OrgCredentials::Token(CredentialSource::File(
            "/run/credentials/remediator.service/prod-token".into()
        ))
    );
    let unit = std::fs::read_to_string("deploy/systemd/remediator.service").expect("unit");
    assert!(unit.contains("LoadCredential=prod-token:"), "{unit}");
    for option in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=remediator",
        "DynamicUser=yes",
    ] {
        assert!(unit.contains(option), "the unit lacks {option}");
    }
}

#[test]
fn the_kubernetes_config_map_holds_a_valid_config() {
    let docs = yaml_documents("deploy/kubernetes/base/configmap.yaml");
    let text = docs[0]["data"]["remediator.toml"]
        .as_str()
        .expect("remediator.toml in the ConfigMap");
    let config =
        DaemonConfig::parse(Path::new("configmap.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.listen.to_string(), "0.0.0.0:9464");
    let OrgCredentials::Token(CredentialSource::File(path)) = &config.orgs[0].credentials else {
        panic!("the ConfigMap names the token file of the mounted Secret");
    };
    assert!(path.starts_with("/run/secrets/remediator"));
}

#[test]
fn the_statefulset_has_probes_scrape_annotations_and_a_journal_volume() {
    let docs = yaml_documents("deploy/kubernetes/base/statefulset.yaml");
    let set = &docs[0];
    assert_eq!(set["kind"], "StatefulSet");
    let template = &set["spec"]["template"];
    let annotations = &template["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let container = &template["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(template["spec"]["securityContext"]["runAsNonRoot"], true);
    let claim = &set["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "journal");
    let mounts = container["volumeMounts"].as_sequence().expect("mounts");
    assert!(mounts
        .iter()
        .any(|m| m["name"] == "journal" && m["mountPath"] == "/var/lib/remediator"));
    assert_eq!(set["spec"]["replicas"], 1, "the base runs one replica");
    let env = container["env"].as_sequence().expect("env");
    assert!(
        env.iter()
            .any(|e| e["name"] == "REMEDIATOR_LEADER_ELECTION" && e["value"] == "false"),
        "the base runs without leader election"
    );
}

#[test]
fn the_sharded_overlay_declares_its_replica_count_to_the_sharding_hash() {
    let kustomization = yaml_documents("deploy/kubernetes/overlays/sharded/kustomization.yaml");
    let count = kustomization[0]["replicas"][0]["count"]
        .as_u64()
        .expect("the overlay sets the replica count");
    assert!(count >= 2, "sharded means several replicas");
    let patch =
        yaml_documents("deploy/kubernetes/overlays/sharded/statefulset-leader-election.yaml");
    let env = patch[0]["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_sequence()
        .expect("env");
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("{name} in the leader-election patch"))
            .to_owned()
    };
    assert_eq!(value("REMEDIATOR_LEADER_ELECTION"), "true");
    assert_eq!(
        value("REMEDIATOR_REPLICAS"),
        count.to_string(),
        "keep the two equal"
    );
}

#[test]
fn the_role_allows_exactly_the_lease_operations() {
    let docs = yaml_documents("deploy/kubernetes/overlays/sharded/lease-rbac.yaml");
    let role = docs.iter().find(|d| d["kind"] == "Role").expect("a Role");
    let rules = role["rules"].as_sequence().expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["resources"][0], "leases");
    assert_eq!(rules[0]["apiGroups"][0], "coordination.k8s.io");
}
