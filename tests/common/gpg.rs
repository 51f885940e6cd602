//! OpenPGP keys made by GnuPG (Debian's `gnupg`) at test time, each in a home of its own.

use std::process::Command;

/// A key made by `gpg`: its armored public block, the primary key's id and fingerprint as gpg
/// reports them, and the armored secret block.
pub struct GpgKey {
    pub public: String,
    pub secret: String,
    pub keyid: String,
    pub fingerprint: String,
}

fn gpg(home: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args([
            "--batch",
            "--quiet",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(args)
        .output()
        .expect("gpg runs (Debian's gnupg; .ci/run installs it)");
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("gpg writes text")
}

/// A new key for `user_id` (e.g. `Ann <ann@example.com>`) of `algo` (`ed25519`, `rsa2048`).
pub fn key(user_id: &str, algo: &str) -> GpgKey {
    let home = std::env::temp_dir().join(format!(
        "ug-gpg-{}",
        usergraph::auth::token::generate("").to_lowercase()
    ));
    std::fs::create_dir_all(&home).expect("gpg home");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("gpg home mode");
    }
    gpg(&home, &["--quick-gen-key", user_id, algo, "default", "never"]);
    let colons = gpg(&home, &["--with-colons", "--list-keys"]);
    let field = |kind: &str, n: usize| {
        colons
            .lines()
            .find(|l| l.starts_with(kind))
            .and_then(|l| l.split(':').nth(n))
            .expect("gpg lists the key")
            .to_string()
    };
    let key = GpgKey {
        public: gpg(&home, &["--armor", "--export"]),
        secret: gpg(&home, &["--armor", "--export-secret-keys"]),
        keyid: field("pub:", 4),
        fingerprint: field("fpr:", 9),
    };
    // The agent gpg started for this home goes with it.
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "gpg-agent"])
        .status();
    let _ = std::fs::remove_dir_all(&home);
    key
}
