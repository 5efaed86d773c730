//! Leader election through Kubernetes Leases (feature `kubernetes`).
