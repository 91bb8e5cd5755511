//! The JSON keys of the commands whose output is built from typed views in `cli/` (SPEC §8):
//! the key set of each shape is pinned, so a view that drops, adds or renames a key fails.

mod common;

use common::Env;

/// The sorted keys of a JSON object.
fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = k.iter().map(|s| (*s).to_owned()).collect();
    k.sort();
    k
}

fn setup() -> Env {
    Env::with_ann()
}

#[test]
fn organization_and_audit_shapes() {
    let e = setup();
    let list = e.json(&["org", "list"]);
    assert_eq!(
        keys(&list[0]),
        sorted(&["partner_id", "slug", "name", "market", "domain", "users"])
    );
    assert_eq!(list[0]["users"], 1);
    let show = e.json(&["org", "show"]);
    assert_eq!(
        keys(&show),
        sorted(&[
            "partner_id",
            "name",
            "slug",
            "domain",
            "market",
            "created",
            "users",
            "removed_users",
            "linked_msas",
        ])
    );
    assert_eq!(show["linked_msas"], 1);
    let audit = e.json(&["audit", "--limit", "1"]);
    assert_eq!(
        keys(&audit[0]),
        sorted(&["at", "actor", "action", "subject", "detail"])
    );
    let init = e.json(&[
        "init",
        "--name",
        "Fabrikam",
        "--partner-id",
        "7654321",
        "--now",
        "2026-01-01",
    ]);
    assert_eq!(
        keys(&init),
        sorted(&["partner_id", "name", "slug", "domain", "market", "db"])
    );
}

#[test]
fn user_shapes() {
    let e = setup();
    let list = e.json(&["users", "list"]);
    let base = [
        "username", "name", "email", "status", "msa", "roles", "created", "removed",
    ];
    assert_eq!(keys(&list[0]), sorted(&base));
    let show = e.json(&["users", "show", "ann@contoso.com"]);
    let mut detail = base.to_vec();
    detail.extend([
        "password",
        "password_expires",
        "self_service_reset",
        "msa_since",
        "removal_reason",
    ]);
    assert_eq!(keys(&show), sorted(&detail));
    assert_eq!(show["password"], "temporary");
    let link = e.json(&[
        "users",
        "link-msa",
        "ann@contoso.com",
        "--msa",
        "ann@outlook.com",
    ]);
    assert_eq!(
        keys(&link),
        sorted(&["username", "msa", "unchanged", "severed", "replaced"])
    );
    assert_eq!(link["unchanged"], true);
}

#[test]
fn record_shapes() {
    let e = setup();
    let add = e.json(&[
        "achievements",
        "add",
        "--msa",
        "ann@outlook.com",
        "--code",
        "70-535",
        "--earned",
        "2025-06-01",
        "--now",
        "2026-01-02",
    ]);
    assert_eq!(
        keys(&add),
        sorted(&["msa", "code", "earned", "expires", "result"])
    );
    assert_eq!(add["result"], "added");
    let list = e.json(&["achievements", "list", "--now", "2026-01-03"]);
    assert_eq!(
        keys(&list[0]),
        sorted(&[
            "msa",
            "username",
            "code",
            "kind",
            "earned",
            "expires",
            "counts",
            "reason",
            "pending_until",
        ])
    );
    let rec = e.json(&[
        "performance",
        "record",
        "--metric",
        "revenue",
        "--value",
        "1000",
        "--date",
        "2026-01-01",
        "--scope",
        "azure",
        "--now",
        "2026-01-02",
    ]);
    assert_eq!(
        keys(&rec),
        sorted(&[
            "metric",
            "scope",
            "track",
            "association",
            "value",
            "date",
            "result"
        ])
    );
    let perf = e.json(&["performance", "list"]);
    assert_eq!(
        keys(&perf[0]),
        sorted(&["date", "metric", "scope", "track", "association", "value"])
    );
    let removed = e.json(&[
        "achievements",
        "remove",
        "--msa",
        "ann@outlook.com",
        "--code",
        "70-535",
        "--now",
        "2026-01-04",
    ]);
    assert_eq!(keys(&removed), sorted(&["msa", "code", "removed"]));
    let export = e.json(&["rules", "export"]);
    assert_eq!(keys(&export), sorted(&["toml"]));
}
