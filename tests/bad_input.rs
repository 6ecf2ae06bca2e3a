//! Bad input through the command line: every broken, hostile or unreadable input and every
//! output that cannot be written must end in exit code 2 with a clear message naming the file
//! (with line:column for syntax errors), nothing partial written (no new file in the output
//! folder, no `.*.sn-retarget-*.tmp` left), the inputs unchanged byte for byte, and no secret in
//! the message. `apply`, `bundle`, `inspect` and `check` are run where they apply.
//!
//! Cases: a secret-bearing export truncated at every byte offset; seeded random byte flips over
//! several fixtures; 100,000-deep nesting (top level and inside a payload) and payloads nested
//! past the reader's limit; a 100 MB text node; DOCTYPE, entity declarations (billion laughs,
//! external and parameter entities), also inside a payload; invalid UTF-8; zip bombs (entry
//! count, and 1 GiB of inflated bytes); zip-slip entry names; unreadable inputs; outputs that
//! cannot be created; a disk that fills up half-way (RLIMIT_FSIZE on the child).
//!
//! Tests may run as root, where `chmod 000` blocks nothing: unreadable inputs are then made
//! with a dangling symbolic link, a path through a regular file (ENOTDIR) and a link to
//! `/proc/self/mem` (EIO on read), and unwritable outputs with a path through a regular file
//! and a path under `/proc` (both refuse root as well); the `chmod` cases run only when the
//! permissions actually bind.
//!
//! Standard output on a full device (`/dev/full`) is an error too.
//!
//! The heavy cases (inputs of 65 MB to 1 GiB, sweeps of hundreds of processes) are `#[ignore]`d
//! so that `cargo test` stays quick; `.ci/run` runs them (`cargo test -- --ignored`).
//!
//! More on outputs (`--force`, signals, a run's own output, leftovers of killed runs) and on
//! zip archives, encodings and FIFOs in `hardening_io.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    CIPHER, PLAIN, Run, bin, cli, every_command, limit_file_size, manifest_dir, no_secret,
    refused_in, run, s, seed000_copy, tmp, tree, unchanged, xorshift_bytes,
};

/// An update set with secrets at the top level and inside both payload encodings, one record a
/// line (so that an error's snippet is the secret's own line).
pub(crate) fn secret_export() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<unload unload_date="2024-05-01 10:00:00">
<sys_properties action="INSERT_OR_UPDATE"><name>x.secret</name><type>password2</type><value>{CIPHER}</value><sys_id>0123456789abcdef0123456789abcd01</sys_id></sys_properties>
<sys_auth_profile_basic action="INSERT_OR_UPDATE"><name>Basic</name><password>{PLAIN}</password><username>admin</username><sys_id>0123456789abcdef0123456789abcd02</sys_id></sys_auth_profile_basic>
<sys_update_xml action="INSERT_OR_UPDATE"><name>sys_auth_profile_oauth2_0123456789abcdef0123456789abcd03</name><payload>&lt;?xml version="1.0" encoding="UTF-8"?&gt;&lt;record_update table="sys_auth_profile_oauth2"&gt;&lt;sys_auth_profile_oauth2 action="INSERT_OR_UPDATE"&gt;&lt;name&gt;Integration&lt;/name&gt;&lt;password&gt;{PLAIN}&lt;/password&gt;&lt;sys_id&gt;0123456789abcdef0123456789abcd03&lt;/sys_id&gt;&lt;/sys_auth_profile_oauth2&gt;&lt;/record_update&gt;</payload><sys_id>0123456789abcdef0123456789abcd04</sys_id></sys_update_xml>
<sys_update_xml action="INSERT_OR_UPDATE"><name>oauth_entity_0123456789abcdef0123456789abcd05</name><payload><![CDATA[<?xml version="1.0" encoding="UTF-8"?><record_update table="oauth_entity"><oauth_entity action="INSERT_OR_UPDATE"><name>OAuth Dev</name><client_secret>{CIPHER}</client_secret><redirect_url>https://dev12345.service-now.com/oauth_redirect.do</redirect_url><sys_id>0123456789abcdef0123456789abcd05</sys_id></oauth_entity></record_update>]]></payload><sys_id>0123456789abcdef0123456789abcd06</sys_id></sys_update_xml>
</unload>
"#
    )
}

/// `apply`, `bundle`, `inspect` and `check` on `input`, each refused with a message naming it at
/// a line and column, nothing written anywhere under `dir`.
fn refused_everywhere(dir: &Path, input: &Path) -> Vec<Run> {
    let out = dir.join("out");
    let name = s(input);
    let mut runs = Vec::new();
    for mut cmd in every_command(&[&name], &out) {
        let r = refused_in(dir, &mut cmd, &[&name]);
        r.at_position(input);
        runs.push(r);
    }
    runs
}

// ---------------------------------------------------------------------------------------------
// Truncation and byte flips.

/// The secret export's every prefix, each a file of `dir`/prefixes (named `pNNNNN.xml` by its
/// length).
fn every_prefix(dir: &Path) -> (Vec<u8>, PathBuf) {
    let doc = secret_export().into_bytes();
    let prefixes = dir.join("prefixes");
    std::fs::create_dir_all(&prefixes).unwrap();
    for end in 0..doc.len() {
        std::fs::write(prefixes.join(format!("p{end:05}.xml")), &doc[..end]).unwrap();
    }
    (doc, prefixes)
}

#[test]
fn every_truncation_is_refused_with_its_position_by_the_library_and_inspect() {
    // The library at every offset: `any_bytes::check` / `check_apply` (also done for two
    // fixtures in `regressions::truncated_fixtures_never_panic`).
    let doc = secret_export().into_bytes();
    for end in 0..doc.len() {
        crate::any_bytes::check(&doc[..end]);
        crate::any_bytes::check_apply(&doc[..end]);
    }
    // The command line at every offset, in one `inspect` run over a folder of every prefix.
    let d = tmp("bad-truncated");
    let (doc, prefixes) = every_prefix(&d);
    let before = tree(&d);
    let r = run(cli(["inspect", "--json"]).arg(&prefixes));
    r.refused(&[]);
    unchanged("inspect", &d, &before);
    let v = r.json();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), doc.len());
    let mut bad = 0;
    for (end, f) in files.iter().enumerate() {
        let readable =
            sn_retarget::model::read(&doc[..end], &mut sn_retarget::model::Collect::default())
                .is_ok();
        assert_eq!(f["error"].is_null(), readable, "prefix {end}: {f}");
        if !readable {
            bad += 1;
            let path = prefixes.join(format!("p{end:05}.xml"));
            assert!(f["error"]["location"]["file"]["line"].as_u64().unwrap() >= 1);
            assert!(
                r.stderr.contains(&format!("{}:", path.display())),
                "prefix {end} not named"
            );
        }
    }
    assert!(
        bad >= doc.len() - 2,
        "{bad} of {} prefixes refused",
        doc.len()
    );
    assert_eq!(r.stderr.matches("sn-retarget: error: ").count(), bad);
}

#[test]
#[ignore = "many processes (some 100 runs); .ci/run runs it"]
fn apply_bundle_and_check_refuse_truncations_at_sampled_offsets() {
    let d = tmp("bad-truncated-cli");
    let (doc, prefixes) = every_prefix(&d);
    let out = d.join("out");
    for end in (0..doc.len()).step_by(61).chain([doc.len() - 1]) {
        let path = prefixes.join(format!("p{end:05}.xml"));
        let readable =
            sn_retarget::model::read(&doc[..end], &mut sn_retarget::model::Collect::default())
                .is_ok();
        let p = s(&path);
        let cmds = [
            (
                cli([
                    "apply", "--target", "acme", "--source", "dev12345", &p, "--out",
                ]),
                Some(format!("a{end}.xml")),
            ),
            (
                cli(["bundle", "--target", "acme", "--quiet", &p, "--out"]),
                Some(format!("b{end}")),
            ),
            (cli(["check", &p]), None),
        ];
        for (mut cmd, dest) in cmds {
            if let Some(dest) = dest {
                cmd.arg(out.join(dest));
            }
            if readable {
                let r = run(&mut cmd);
                r.sane();
                assert!(matches!(r.code, Some(0 | 1)), "{}\n{}", r.what, r.stderr);
            } else {
                refused_in(&d, &mut cmd, &[&p]).at_position(&path);
            }
        }
    }
}

/// Overwrites 1 to 4 bytes of `doc`, with markup characters, random bytes and invalid UTF-8.
fn flipped(doc: &[u8], seed: u64) -> Vec<u8> {
    const SPECIAL: &[u8] = b"<>&;\"'/]![?=x \n\xff\xc3\x00";
    let r = xorshift_bytes(seed, 16);
    let mut out = doc.to_vec();
    let n = 1 + usize::from(r[0] % 4);
    for k in 0..n {
        let at = u32::from_le_bytes([r[1 + 3 * k], r[2 + 3 * k], r[3 + 3 * k], 0]) as usize
            % out.len().max(1);
        let b = r[13 - k];
        if let Some(x) = out.get_mut(at) {
            *x = if b & 1 == 0 {
                SPECIAL[usize::from(b >> 1) % SPECIAL.len()]
            } else {
                b
            };
        }
    }
    out
}

/// Fixtures of every shape, and the secret export, to flip bytes in: (name, bytes).
fn flip_sources() -> Vec<(String, Vec<u8>)> {
    [
        "update_set_escaped.xml",
        "update_set_cdata.xml",
        "seed000_dev/3_application_registries.xml",
        "source_control_delete.xml",
        "dictionary.xml",
    ]
    .iter()
    .map(|f| {
        (
            f.replace('/', "_"),
            std::fs::read(manifest_dir().join("fixtures").join(f)).unwrap(),
        )
    })
    .chain([("secret".to_string(), secret_export().into_bytes())])
    .collect()
}

#[test]
fn byte_flips_never_panic_the_library_nor_leave_a_secret() {
    for (k, (_, doc)) in flip_sources().iter().enumerate() {
        for i in 0..150u64 {
            let v = flipped(doc, 1000 * k as u64 + i);
            crate::any_bytes::check(&v);
            crate::any_bytes::check_apply(&v);
        }
    }
}

#[test]
#[ignore = "many processes (some 330 runs); .ci/run runs it"]
fn byte_flips_through_every_command_are_refused_naming_the_file_or_read() {
    // Every variant through inspect (one run), apply and check (one run each), bundle for some.
    let sources = flip_sources();
    let d = tmp("bad-flips");
    let inputs = d.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let mut variants = Vec::new();
    // FLIP_VARIANTS runs more (25 per fixture by default).
    let per_fixture = std::env::var("FLIP_VARIANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25u64);
    for (k, (name, doc)) in sources.iter().enumerate() {
        for i in 0..per_fixture {
            let path = inputs.join(format!("{name}_{i:04}.xml"));
            let v = flipped(doc, 7_000_000 + 1000 * k as u64 + i);
            std::fs::write(&path, &v).unwrap();
            variants.push((path, v));
        }
    }
    let before = tree(&d);
    let r = run(cli(["inspect", "--json"]).arg(&inputs));
    r.sane();
    unchanged("inspect", &d, &before);
    let v = r.json();
    assert_eq!(v["files"].as_array().unwrap().len(), variants.len());
    let out = d.join("out");
    for (i, (path, bytes)) in variants.iter().enumerate() {
        let readable =
            sn_retarget::model::read(bytes, &mut sn_retarget::model::Collect::default()).is_ok();
        let p = s(path);
        let mut apply = cli(["apply"]);
        apply
            .args(crate::support::RETARGET_ACME)
            .args([&p, "--out"]);
        let mut cmds = vec![
            (apply, Some(format!("a{i}.xml"))),
            (cli(["check", &p]), None),
        ];
        if i % 5 == 0 {
            cmds.push((
                cli(["bundle", "--quiet", "--target", "acme", &p, "--out"]),
                Some(format!("b{i}")),
            ));
        }
        for (mut cmd, dest) in cmds {
            if let Some(dest) = dest {
                cmd.arg(out.join(dest));
            }
            let before = tree(&d);
            let r = run(&mut cmd);
            r.sane();
            if r.code == Some(2) {
                assert!(
                    r.stderr.contains(&p),
                    "{}: file not named\n{}",
                    r.what,
                    r.stderr
                );
                if !readable {
                    r.at_position(path);
                }
                unchanged(&r.what, &d, &before);
            } else {
                assert!(readable, "{}: unreadable input accepted", r.what);
            }
        }
        // The input is never touched.
        assert_eq!(&std::fs::read(path).unwrap(), bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Nesting, size.

#[test]
fn hundred_thousand_deep_nesting() {
    let d = tmp("bad-deep");
    let depth = 100_000;
    let deep = d.join("deep.xml");
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<unload>");
    doc.push_str(&"<a>".repeat(depth));
    doc.push_str(&"</a>".repeat(depth));
    doc.push_str("</unload>\n");
    std::fs::write(&deep, &doc).unwrap();
    for r in refused_everywhere(&d, &deep) {
        assert!(r.stderr.contains("nested deeper than"), "{}", r.stderr);
    }

    // Inside an escaped payload: the file reads, the payload is a warning and passes through.
    let inner = format!(
        "<record_update table=\"x\">{}{}</record_update>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let in_payload = d.join("deep_payload.xml");
    let doc = format!(
        "<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>{}</payload><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_update_xml></unload>",
        inner.replace('<', "&lt;").replace('>', "&gt;")
    );
    std::fs::write(&in_payload, &doc).unwrap();
    let out = d.join("deep_payload_out.xml");
    let r = run(cli(["apply", "--target", "acme", "--out"])
        .arg(&out)
        .arg(&in_payload));
    r.sane();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), doc.as_bytes());
    let r = run(cli(["inspect", "--json"]).arg(&in_payload));
    r.sane();
    let v = r.json();
    let diag = v["files"][0]["diagnostics"].to_string();
    assert!(
        diag.contains("malformed-payload") && diag.contains("nested deeper"),
        "{diag}"
    );

    // Payloads in payloads, 30 deep: read down to the limit, the rest kept as text.
    let mut doc = String::from(
        "<record_update table=\"sys_properties\"><sys_properties action=\"INSERT_OR_UPDATE\"><value>https://dev12345.service-now.com</value><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_properties></record_update>",
    );
    for _ in 0..30 {
        doc = format!(
            "<record_update table=\"sys_update_version\"><sys_update_version action=\"INSERT_OR_UPDATE\"><payload>{}</payload></sys_update_version></record_update>",
            doc.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        );
    }
    let chain = d.join("chain.xml");
    std::fs::write(&chain, &doc).unwrap();
    let r = run(cli(["inspect", "--json"]).arg(&chain));
    r.sane();
    assert_eq!(r.code, Some(0));
    let v = r.json();
    assert!(
        v["files"][0]["diagnostics"]
            .to_string()
            .contains("payload-too-deep")
    );
    let out = d.join("chain_out.xml");
    let r = run(
        cli(["apply", "--target", "acme", "--source", "dev12345", "--out"])
            .arg(&out)
            .arg(&chain),
    );
    r.sane();
}

/// The release binary of this source, for the heavier variants: the path in
/// `SN_RETARGET_RELEASE_BIN`, which `.ci/run` sets after `cargo build --release` (nothing here
/// can tell whether a binary lying in `target/release` was built from this source).
fn release_binary() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("SN_RETARGET_RELEASE_BIN")?);
    assert!(
        path.is_file(),
        "SN_RETARGET_RELEASE_BIN={}: no such file",
        path.display()
    );
    Some(path)
}

/// Runs `cmd` to completion and returns its exit code, peak memory (KiB) and stderr.
///
/// The peak is the child's own when GNU time is at `/usr/bin/time` (it forks the child from its
/// own small process). Otherwise it comes from `wait4`, and is only an upper bound: a child
/// spawned from this test process starts from this process's high-water mark, which the
/// other tests running here push up (see [`peak_is_exact`]).
fn run_measured(cmd: Command, stderr_to: &Path) -> (Option<i32>, u64, String) {
    let err = std::fs::File::create(stderr_to).unwrap();
    let rss_to = stderr_to.with_extension("rss");
    let mut cmd = match peak_is_exact() {
        true => {
            let mut timed = Command::new("/usr/bin/time");
            timed
                .args(["-f", "%M", "-o"])
                .arg(&rss_to)
                .arg(cmd.get_program())
                .args(cmd.get_args());
            timed
        }
        false => cmd,
    };
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child spawned above (std's handle is dropped without waiting).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    drop(child);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let peak = match peak_is_exact() {
        // GNU time writes "Command exited with non-zero status N" first when it does.
        true => std::fs::read_to_string(&rss_to)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
            .expect("GNU time's %M"),
        false => usage.ru_maxrss as u64,
    };
    (
        code,
        peak,
        std::fs::read_to_string(stderr_to).unwrap_or_default(),
    )
}

/// `true` when [`run_measured`] measures a child's own peak memory (GNU time is present).
fn peak_is_exact() -> bool {
    static EXACT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXACT.get_or_init(|| {
        Command::new("/usr/bin/time")
            .args(["-f", "%M", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// `true` when the two files hold the same bytes (read a megabyte at a time).
fn files_equal(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        let mut m = 0;
        while m < n {
            let k = b.read(&mut y[m..n]).unwrap();
            if k == 0 {
                return false;
            }
            m += k;
        }
        if x[..n] != y[..n] {
            return false;
        }
        if n == 0 {
            return b.read(&mut y).unwrap() == 0;
        }
    }
}

/// A plan that changes nothing, on one file over the output check's 64 MB: checked while copied,
/// a piece at a time, so memory stays below the file's size whatever it is.
#[test]
#[ignore = "large: a 70 MB input; .ci/run runs it"]
fn identity_of_a_large_file_runs_in_small_memory() {
    let d = tmp("bad-stream");
    let input = d.join("big.xml");
    let record = b"<sys_properties action=\"INSERT_OR_UPDATE\"><name>p</name><value>https://dev12345.service-now.com/x &amp; y</value><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_properties>\n";
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    f.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload>\n")
        .unwrap();
    for _ in 0..70_000_000 / record.len() {
        f.write_all(record).unwrap();
    }
    f.write_all(b"</unload>\n").unwrap();
    drop(f);
    let len = std::fs::metadata(&input).unwrap().len();
    let out = d.join("out.xml");
    let mut cmd = bin();
    cmd.args(["apply", "--secrets", "keep", "--out"])
        .arg(&out)
        .arg(&input);
    let (code, rss_kib, stderr) = run_measured(cmd, &d.join("stderr.txt"));
    assert_eq!(code, Some(0), "{stderr}");
    // A few 8 MB pieces in flight; a whole read would hold all 70 MB.
    if peak_is_exact() {
        assert!(
            rss_kib * 1024 < 64_000_000,
            "identity peak RSS {rss_kib} KiB for {len} bytes"
        );
    } else {
        eprintln!("no GNU time at /usr/bin/time: the child's own peak memory is not measured");
    }
    assert!(
        files_equal(&out, &input),
        "identity output differs from its input"
    );
    // A disk that fills up half-way through the copy (past the page cache): refused, nothing
    // written.
    std::fs::remove_file(&out).unwrap();
    let mut cmd = bin();
    cmd.args(["apply", "--secrets", "keep", "--out"])
        .arg(&out)
        .arg(&input);
    with_file_size_limit(&mut cmd, 10_000_000);
    refused_in(&d, &mut cmd, &[&s(&out), "File too large"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
#[ignore = "large: 100 MB inputs; .ci/run runs it"]
fn a_hundred_megabyte_text_node_is_rewritten_in_bounded_memory() {
    let d = tmp("bad-big");
    let head = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload unload_date=\"2024-01-01 00:00:00\">\n<sys_properties action=\"INSERT_OR_UPDATE\"><name>big</name><sys_id>0123456789abcdef0123456789abcdef</sys_id><value>https://dev12345.service-now.com/a ";
    let tail = b" https://dev12345.service-now.com/z</value></sys_properties>\n</unload>\n";
    let size = 100_000_000usize;
    let release = release_binary();
    let write = |path: &Path, unit: &[u8]| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        f.write_all(head).unwrap();
        for _ in 0..size / unit.len() {
            f.write_all(unit).unwrap();
        }
        f.write_all(tail).unwrap();
    };
    // The debug binary gets plain text (fast to scan unoptimized); the release binary also gets
    // text full of references.
    let mut cases = vec![(
        PathBuf::from(env!("CARGO_BIN_EXE_sn-retarget")),
        d.join("plain.xml"),
        &b"abcdefghij"[..],
    )];
    if let Some(r) = &release {
        cases.push((r.clone(), d.join("escaped.xml"), &b"a&amp;b &lt;c&gt; "[..]));
    } else {
        eprintln!("SN_RETARGET_RELEASE_BIN not set: the escaped 100 MB variant is skipped");
    }
    for (exe, input, unit) in cases {
        write(&input, unit);
        let len = std::fs::metadata(&input).unwrap().len();
        let out = d.join("out.xml");
        let _ = std::fs::remove_file(&out);
        let started = Instant::now();
        let mut cmd = Command::new(&exe);
        cmd.args(["apply", "--target", "acme", "--source", "dev12345", "--out"])
            .arg(&out)
            .arg(&input);
        let (code, rss_kib, stderr) = run_measured(cmd, &d.join("stderr.txt"));
        eprintln!(
            "{}: apply of {len} bytes in {:?}, peak RSS {} MB",
            exe.display(),
            started.elapsed(),
            rss_kib / 1024
        );
        assert_eq!(code, Some(0), "{stderr}");
        no_secret("apply", &stderr);
        // Bounded memory: the README measures 2.6x the input for apply.
        assert!(
            rss_kib * 1024 < 4 * len,
            "peak RSS {rss_kib} KiB for {len} bytes"
        );
        let written = std::fs::metadata(&out).unwrap().len();
        assert_eq!(
            written,
            len + 2 * ("acme".len() as u64) - 2 * ("dev12345".len() as u64)
        );
        std::fs::remove_file(&out).unwrap();
        // A plan that changes nothing copies the file while checking it, in pieces (a record
        // this large makes the buffer grow to hold it); a cut copy is refused, nothing written.
        let keep = |from: &Path| {
            let mut cmd = Command::new(&exe);
            cmd.args(["apply", "--secrets", "keep", "--out"])
                .arg(&out)
                .arg(from);
            run_measured(cmd, &d.join("stderr.txt"))
        };
        let (code, rss_kib, stderr) = keep(&input);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(rss_kib * 1024 < 2 * len, "identity peak RSS {rss_kib} KiB");
        assert!(
            files_equal(&out, &input),
            "identity output differs from its input"
        );
        std::fs::remove_file(&out).unwrap();
        let cut = d.join("cut.xml");
        std::fs::write(&cut, &std::fs::read(&input).unwrap()[..len as usize - 40]).unwrap();
        let (code, _, stderr) = keep(&cut);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("cut.xml:3:"), "{stderr}");
        assert!(!out.exists(), "nothing written for a cut input");
        std::fs::remove_file(&cut).unwrap();
        if exe != Path::new(env!("CARGO_BIN_EXE_sn-retarget")) {
            let mut cmd = Command::new(&exe);
            cmd.args(["inspect", "--json"]).arg(&input);
            let (code, rss_kib, stderr) = run_measured(cmd, &d.join("stderr.txt"));
            assert_eq!(code, Some(0), "{stderr}");
            assert!(rss_kib * 1024 < 3 * len, "inspect peak RSS {rss_kib} KiB");
        }
        std::fs::remove_file(&input).unwrap();
    }
    let _ = std::fs::remove_dir_all(&d);
}

// ---------------------------------------------------------------------------------------------
// DOCTYPE, entities, encodings.

fn billion_laughs() -> String {
    let mut s =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE unload [\n <!ENTITY lol \"lol\">\n");
    let mut prev = "lol".to_string();
    for i in 1..=9 {
        s.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
        prev = format!("lol{i}");
    }
    s.push_str("]>\n");
    s.push_str(&format!(
        "<unload><sys_properties action=\"INSERT_OR_UPDATE\"><name>&lol9;</name><type>password2</type><value>{CIPHER}</value></sys_properties></unload>\n"
    ));
    s
}

#[test]
fn doctype_and_entity_declarations_are_refused() {
    let d = tmp("bad-doctype");
    let cases = [
        ("laughs.xml", billion_laughs()),
        (
            // The secret on the refused line itself: the snippet must mask it.
            "one_line.xml",
            format!(
                "<!DOCTYPE unload [<!ENTITY s \"{CIPHER}\">]><unload><sys_properties action=\"INSERT_OR_UPDATE\"><value>&s;</value><password>{PLAIN}</password></sys_properties></unload>"
            ),
        ),
        (
            "external.xml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE unload [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<unload><x>&xxe;</x></unload>\n".to_string(),
        ),
        (
            "parameter.xml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE unload [<!ENTITY % p SYSTEM \"http://example.invalid/x.dtd\"> %p;]>\n<unload/>\n".to_string(),
        ),
        (
            "system_dtd.xml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE unload SYSTEM \"file:///etc/passwd\">\n<unload/>\n".to_string(),
        ),
    ];
    for (name, text) in &cases {
        let path = d.join(name);
        std::fs::write(&path, text).unwrap();
        let started = Instant::now();
        for r in refused_everywhere(&d, &path) {
            assert!(
                r.stderr.contains("DOCTYPE declarations are refused"),
                "{}",
                r.stderr
            );
            assert!(
                !r.stderr.contains("lollol") && !r.stderr.contains("root:"),
                "{}",
                r.stderr
            );
            assert!(r.stderr.len() < 4000, "{}", r.stderr);
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{name}: slow");
    }
    // An entity used without a declaration.
    let path = d.join("undeclared.xml");
    std::fs::write(&path, "<unload><x>&lol9;</x></unload>").unwrap();
    for r in refused_everywhere(&d, &path) {
        assert!(
            r.stderr.contains("invalid entity or character reference"),
            "{}",
            r.stderr
        );
    }
    // A DOCTYPE inside a payload: not an update document, so the payload stays text, untouched;
    // the ciphertext in it is still caught when secrets are replaced (fail closed), and with
    // --secrets keep the output is the input.
    let laughs_payload = billion_laughs()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let doc = format!(
        "<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>{laughs_payload}</payload><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_update_xml></unload>"
    );
    let path = d.join("payload_doctype.xml");
    std::fs::write(&path, &doc).unwrap();
    let out = d.join("payload_doctype_out.xml");
    let r = refused_in(
        &d,
        cli(["apply", "--target", "acme", "--out"])
            .arg(&out)
            .arg(&path),
        &[&s(&path)],
    );
    assert!(r.stderr.contains("ciphertext left"), "{}", r.stderr);
    let r = run(
        cli(["apply", "--target", "acme", "--secrets", "keep", "--out"])
            .arg(&out)
            .arg(&path),
    );
    r.sane();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), doc.as_bytes());
    let r = run(cli(["inspect", "--json"]).arg(&path));
    r.sane();
    assert_eq!(r.code, Some(0));
    assert!(!r.stdout.contains("lollol"));
}

/// A folder with no export in it (a mistyped path, the wrong folder) is an error for every
/// command, which names the folder; nothing is written.
#[test]
fn a_folder_without_exports_is_refused() {
    let d = tmp("bad-empty");
    let empty = d.join("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    std::fs::write(empty.join("notes.txt"), "not an export").unwrap();
    let e = s(&empty);
    let out = s(&d.join("out"));
    for args in [
        vec!["inspect", &e],
        vec!["check", &e],
        vec!["order", &e],
        vec!["plan", "--target", "acme", &e],
        vec!["apply", "--target", "acme", &e, "--out", &out],
        vec!["bundle", "--target", "acme", &e, "--out", &out],
    ] {
        let r = refused_in(&d, &mut cli(&args), &[&e, "no *.xml or *.zip input found"]);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A control character XML does not allow (ServiceNow's import stops on it) is refused
/// wherever it is: in a value next to a secret, in an attribute, inside a CDATA payload, in a
/// large file checked while copied. The message names the character and where it is, never the
/// secret. Tab, line feed and carriage return pass.
#[test]
fn control_characters_are_refused() {
    let d = tmp("bad-control");
    let doc = |value: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload>\n<sys_properties action=\"INSERT_OR_UPDATE\"><name>{value}</name><type>password2</type><value>{CIPHER}</value></sys_properties>\n</unload>\n"
        )
    };
    let cases = [
        ("nul.xml", doc("a\u{0}b")),
        ("vertical_tab.xml", doc("pasted\u{b}text")),
        ("escape.xml", doc("\u{1b}[0m")),
        (
            "attribute.xml",
            "<unload>\n<sys_properties action=\"INSERT\u{1a}\"/>\n</unload>\n".to_string(),
        ),
        (
            "in_payload.xml",
            "<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload><![CDATA[<record_update table=\"x\"><x action=\"INSERT_OR_UPDATE\"><name>\u{8}</name></x></record_update>]]></payload></sys_update_xml></unload>".to_string(),
        ),
    ];
    for (name, bytes) in cases {
        // Where the character is, counted the way the messages count (1-based).
        let at = bytes
            .find(|c: char| c < ' ' && !"\t\n\r".contains(c))
            .unwrap();
        let line = bytes[..at].matches('\n').count() + 1;
        let column = at - bytes[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        let path = d.join(name);
        std::fs::write(&path, &bytes).unwrap();
        for r in refused_everywhere(&d, &path) {
            assert!(
                r.stderr.contains("is not allowed in XML"),
                "{}: {}",
                r.what,
                r.stderr
            );
            assert_eq!(r.at_position(&path), (line, column), "{}", r.stderr);
            no_secret(&r.what, &r.stderr);
        }
    }
    // Nor can a value the plan would write: refused before anything is read.
    let good = d.join("good.xml");
    std::fs::write(&good, doc("fine")).unwrap();
    for option in [
        "--set=sys_properties.value=a\u{b}b",
        "--replace=sys_properties.name:fine=a\u{1}",
        "--placeholder=REENTER\u{7}",
    ] {
        let r = refused_in(
            &d,
            cli(["apply", "--target", "acme", option, "--out"])
                .arg(d.join("out.xml"))
                .arg(&good),
            &["control characters"],
        );
        no_secret(&r.what, &r.stderr);
    }
    // The allowed ones.
    let path = d.join("allowed.xml");
    std::fs::write(&path, doc("tab\there\r\nand line")).unwrap();
    let r = run(cli(["inspect"]).arg(&path));
    r.sane();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&d);
}

/// Over 64 MB, `apply` with nothing to rewrite checks the file while copying it: a control
/// character is refused the same way, nothing written.
#[test]
#[ignore = "large: a 70 MB input; .ci/run runs it"]
fn a_control_character_past_64_mb_is_refused_while_copied() {
    let d = tmp("bad-control-large");
    let large = d.join("large.xml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&large).unwrap());
        f.write_all(b"<unload>\n").unwrap();
        let record = b"<sys_properties action=\"INSERT_OR_UPDATE\"><name>p</name><value>some text</value></sys_properties>\n";
        for _ in 0..70_000_000 / record.len() {
            f.write_all(record).unwrap();
        }
        f.write_all(b"<sys_properties action=\"INSERT_OR_UPDATE\"><name>\x0c</name></sys_properties>\n</unload>\n")
            .unwrap();
    }
    let out = d.join("large-out.xml");
    let r = refused_in(
        &d,
        cli(["apply", "--secrets", "keep", "--out"])
            .arg(&out)
            .arg(&large),
        &[&s(&large), "U+000C"],
    );
    r.at_position(&large);
    std::fs::remove_file(&large).unwrap();
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn invalid_utf8_is_refused() {
    let d = tmp("bad-utf8");
    let good = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<unload>\n<sys_properties action=\"INSERT_OR_UPDATE\"><name>NAME</name><type>password2</type><value>{CIPHER}</value></sys_properties>\n</unload>\n"
    );
    let (start, end) = {
        let i = good.find("NAME").unwrap();
        (
            good.as_bytes()[..i].to_vec(),
            good.as_bytes()[i + 4..].to_vec(),
        )
    };
    let cases: [(&str, &[u8]); 6] = [
        ("ff.xml", b"caf\xe9 \xff\xfe"),
        ("overlong.xml", b"\xc0\xaf"),
        ("surrogate.xml", b"\xed\xa0\x80"),
        ("cut.xml", b"\xe6\x97"),
        ("too_big.xml", b"\xf4\x90\x80\x80"),
        ("in_payload.xml", b"x"),
    ];
    for (name, bad) in cases {
        let bytes = if name == "in_payload.xml" {
            // Inside a CDATA payload: the whole file is refused, with the file position.
            b"<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload><![CDATA[<record_update table=\"x\"><x action=\"INSERT_OR_UPDATE\"><name>\xff</name></x></record_update>]]></payload></sys_update_xml></unload>".to_vec()
        } else {
            [&start[..], bad, &end[..]].concat()
        };
        let path = d.join(name);
        std::fs::write(&path, &bytes).unwrap();
        for r in refused_everywhere(&d, &path) {
            assert!(r.stderr.contains("invalid UTF-8"), "{}", r.stderr);
        }
    }
    // UTF-16 (with its BOM) is not UTF-8 either.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("<unload/>".encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let path = d.join("utf16.xml");
    std::fs::write(&path, utf16).unwrap();
    refused_everywhere(&d, &path);
}

// ---------------------------------------------------------------------------------------------
// Zip archives.

/// Raw deflate of `total` spaces, hand-made (fixed Huffman codes: one literal, then matches of
/// length 258 at distance 1): about 6.5 MB per GiB, written without compressing anything.
fn deflated_spaces(total: u64) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code, most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            let rev = code.reverse_bits() >> (32 - len);
            self.put(u64::from(rev), len);
        }
    }
    let mut b = Bits {
        out: Vec::with_capacity((total / 258 * 13 / 8 + 64) as usize),
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman codes
    b.code(0x30 + u32::from(b' '), 8);
    let mut left = total - 1;
    while left >= 258 {
        b.code(0xC5, 8); // length 258 (symbol 285)
        b.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        b.code(0x30 + u32::from(b' '), 8);
    }
    b.code(0, 7); // end of block
    if b.n > 0 {
        b.out.push(b.acc as u8);
    }
    b.out
}

/// A zip of one deflated entry (`data` already deflated, inflating to `size` bytes; the CRC is
/// left 0, as a bomb never gets that far).
fn zip_one(name: &str, data: &[u8], size: u32) -> Vec<u8> {
    let n = name.len() as u16;
    let mut z = Vec::new();
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for v in [20u16, 0, 8, 0, 0x21] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, data.len() as u32, size] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(data);
    let cd_start = z.len();
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    for v in [20u16, 20, 0, 8, 0, 0x21] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0u32, data.len() as u32, size] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    for v in [n, 0, 0, 0, 0] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    z.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    z.extend_from_slice(&0u32.to_le_bytes()); // local header at 0
    z.extend_from_slice(name.as_bytes());
    let cd_len = (z.len() - cd_start) as u32;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&(cd_start as u32).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

#[test]
#[ignore = "large: 1 GiB inflated from a 7 MB zip; .ci/run runs it"]
fn a_zip_entry_inflating_past_1_gib_is_refused_in_bounded_memory() {
    let d = tmp("bad-bomb");
    // 1 GiB + 1 MiB of inflated bytes from ~7 MB: over the 1 GiB entry limit.
    let size = (1u64 << 30) + (1 << 20);
    let bomb = d.join("bomb.zip");
    std::fs::write(
        &bomb,
        zip_one("bomb.xml", &deflated_spaces(size), size as u32),
    )
    .unwrap();
    let out = d.join("out");
    let before = tree(&d);
    let mut cmd = bin();
    cmd.args(["bundle", "--quiet", "--target", "acme", "--out"])
        .arg(&out)
        .arg(&bomb);
    let started = Instant::now();
    let (code, rss_kib, stderr) = run_measured(
        cmd,
        &std::env::temp_dir().join(format!("snr-bomb-{}.err", std::process::id())),
    );
    eprintln!(
        "size bomb refused in {:?}, peak RSS {} MB",
        started.elapsed(),
        rss_kib / 1024
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&s(&bomb)) && stderr.contains("over the limit"),
        "{stderr}"
    );
    unchanged("bundle bomb", &d, &before);
    // Memory stays bounded by the limit: the entry is read up to 1 GiB + 1 byte, no further.
    assert!(rss_kib < 2 * 1024 * 1024, "peak RSS {rss_kib} KiB");
}

#[test]
fn a_zip_of_more_entries_than_the_limit_is_refused_by_every_command() {
    let d = tmp("bad-bomb-entries");
    let out = d.join("out");
    // 100,001 entries, one more than the entry limit.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..100_001 {
        w.start_file(format!("{i}.xml"), stored).unwrap();
    }
    let many = d.join("many.zip");
    std::fs::write(&many, w.finish().unwrap().into_inner()).unwrap();
    let m = s(&many);
    for mut cmd in every_command(&[&m], &out) {
        let r = refused_in(&d, &mut cmd, &[&m]);
        assert!(
            r.stderr.contains("entry count over the limit of 100000"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn zip_slip_names_are_refused() {
    let d = tmp("bad-slip");
    let inner = d.join("inner");
    std::fs::create_dir_all(&inner).unwrap();
    for (i, evil) in [
        "../evil.xml",
        "a/../../evil.xml",
        "/abs/evil.xml",
        "..\\evil.xml",
        "C:/evil.xml",
        "C:\\evil.xml",
    ]
    .iter()
    .enumerate()
    {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        w.start_file("good.xml", o).unwrap();
        w.write_all(secret_export().as_bytes()).unwrap();
        w.start_file(*evil, o).unwrap();
        w.write_all(b"<unload/>").unwrap();
        let zip = inner.join(format!("slip{i}.zip"));
        std::fs::write(&zip, w.finish().unwrap().into_inner()).unwrap();
        let z = s(&zip);
        let out = inner.join("out");
        for mut cmd in every_command(&[&z], &out) {
            // Nothing anywhere under the test folder (so nothing beside `inner` either).
            // (The entry is shown quoted, backslashes escaped.)
            let r = refused_in(&d, &mut cmd, &[&z, "evil.xml"]);
            assert!(r.stderr.contains("absolute or `..` path"), "{}", r.stderr);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Unreadable inputs, unwritable outputs.

/// `true` when file permissions bind this process (not root, no CAP_DAC_OVERRIDE).
fn permissions_bind(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let binds = std::fs::read(&probe).is_err();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(&probe).unwrap();
    binds
}

#[test]
fn unreadable_inputs_are_refused() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let d = tmp("bad-unreadable");
    let file = d.join("plain.txt");
    std::fs::write(&file, "a regular file").unwrap();
    let mut cases: Vec<(PathBuf, &str)> = vec![
        (d.join("dangling.xml"), "No such file or directory"),
        (file.join("x.xml"), "Not a directory"),
        (d.join("mem.xml"), "Input/output error"),
    ];
    symlink(d.join("nowhere.xml"), &cases[0].0).unwrap();
    symlink("/proc/self/mem", &cases[2].0).unwrap();
    let binds = permissions_bind(&d);
    if binds {
        let locked = d.join("locked.xml");
        std::fs::write(&locked, secret_export()).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        cases.push((locked, "Permission denied"));
        let dir = d.join("locked_dir");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.xml"), "<unload/>").unwrap();
        std::fs::set_permissions(dir.join("sub"), std::fs::Permissions::from_mode(0o000)).unwrap();
        cases.push((dir.join("sub"), "Permission denied"));
    } else {
        eprintln!(
            "permissions do not bind (root?): chmod 000 cases skipped; ENOTDIR, a dangling link and EIO stand in"
        );
    }
    let good = d.join("good.xml");
    std::fs::write(&good, secret_export()).unwrap();
    let out = d.join("out");
    for (path, why) in &cases {
        let p = s(path);
        let g = s(&good);
        for mut cmd in every_command(&[&g, &p], &out) {
            refused_in(&d, &mut cmd, &[&p, why]);
        }
    }
    if binds {
        for (path, _) in &cases {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn a_fifo_in_a_folder_is_skipped_not_waited_on() {
    let d = tmp("bad-fifo");
    let folder = d.join("in");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.xml"), "<unload/>").unwrap();
    let fifo = std::ffi::CString::new(s(&folder.join("b.xml"))).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let mut child = cli(["inspect", "--json"])
        .arg(&folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("inspect waits on a FIFO in a folder");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
}

#[test]
fn unwritable_outputs_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp("bad-unwritable");
    let input = d.join("in.xml");
    std::fs::write(&input, secret_export()).unwrap();
    let folder = seed000_copy(&d);
    let blocker = d.join("file.txt");
    std::fs::write(&blocker, "a regular file where a folder should be").unwrap();
    let i = s(&input);
    let f = s(&folder);
    // A path through a regular file refuses root too; so does a new entry in /proc.
    let mut outs: Vec<PathBuf> = vec![blocker.join("out")];
    if Path::new("/proc/self").exists() {
        outs.push(PathBuf::from("/proc/sn-retarget-test-out"));
    }
    if permissions_bind(&d) {
        let ro = d.join("read_only");
        std::fs::create_dir_all(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        outs.push(ro.join("out"));
    } else {
        eprintln!("permissions do not bind (root?): the read-only folder case is skipped");
    }
    for out in &outs {
        let o = s(out);
        let xml = format!("{o}.xml");
        let zip = format!("{o}.zip");
        for mut cmd in [
            cli(["apply", "--target", "acme", &i, "--out", &xml]),
            cli(["apply", "--target", "acme", &f, "--out", &o]),
            cli(["bundle", "--quiet", "--target", "acme", &f, "--out", &o]),
            cli(["bundle", "--quiet", "--target", "acme", &f, "--out", &zip]),
            cli(["plan", "--target", "acme", &i, "-o", &format!("{o}.toml")]),
        ] {
            refused_in(&d, &mut cmd, &[&o]);
        }
    }
}

/// Runs the command with writes limited to `bytes` per file (RLIMIT_FSIZE) and SIGXFSZ
/// ignored, so that a write past the limit fails with EFBIG, as on a full disk.
fn with_file_size_limit(cmd: &mut Command, bytes: u64) -> &mut Command {
    limit_file_size(cmd, bytes, libc::SIG_IGN)
}

#[test]
fn disk_full_half_way() {
    let d = tmp("bad-full");
    let input = d.join("in.xml");
    std::fs::write(&input, secret_export()).unwrap();
    let folder = seed000_copy(&d);
    let i = s(&input);
    let f = s(&folder);
    let out = d.join("out");
    let o = s(&out);
    let limit = 1000; // every output here is larger
    for (mut cmd, named) in [
        (
            cli([
                "apply",
                "--target",
                "acme",
                &i,
                "--out",
                &format!("{o}.xml"),
            ]),
            format!("{o}.xml"),
        ),
        (
            cli(["bundle", "--quiet", "--target", "acme", &f, "--out", &o]),
            o.clone(),
        ),
        (
            cli([
                "bundle",
                "--quiet",
                "--target",
                "acme",
                &f,
                "--out",
                &format!("{o}.zip"),
            ]),
            format!("{o}.zip"),
        ),
        (
            cli(["plan", "--target", "acme", &f, "-o", &format!("{o}.toml")]),
            format!("{o}.toml"),
        ),
    ] {
        with_file_size_limit(&mut cmd, limit);
        refused_in(&d, &mut cmd, &[&named, "File too large"]);
    }
}

#[test]
fn standard_output_on_a_full_device() {
    // Reports written to standard output: a full device is an error (exit 2), not a success.
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full: skipped");
        return;
    };
    let f = s(&manifest_dir().join("fixtures/seed000_dev"));
    for mut cmd in [
        cli(["inspect", "--json", &f]),
        cli(["inspect", &f]),
        cli(["check", "--format", "sarif", &f]),
        cli(["order", &f]),
        cli(["plan", "--target", "acme", &f]),
        cli(["apply", "--dry-run", "--target", "acme", &f]),
    ] {
        cmd.stdout(Stdio::from(full.try_clone().unwrap()));
        let r = run(&mut cmd);
        r.refused(&["No space left on device"]);
    }
}

#[test]
fn failed_writes_leave_no_folder_behind() {
    let d = tmp("bad-full-folders");
    let folder = s(&seed000_copy(&d));
    for (mut cmd, out) in [
        (
            cli(["apply", "--target", "acme", &folder, "--out"]),
            d.join("new/apply"),
        ),
        (
            cli(["bundle", "--quiet", "--target", "acme", &folder, "--out"]),
            d.join("new/bundle/b"),
        ),
    ] {
        cmd.arg(&out);
        with_file_size_limit(&mut cmd, 500);
        refused_in(&d, &mut cmd, &["File too large"]);
    }
}

#[test]
fn apply_writes_all_outputs_or_none() {
    // seed000_dev holds four files of 1-3 KB; with writes limited to 2,000 bytes the first two
    // outputs are written, the third fails with EFBIG: exit 2, but two files stay in `out`.
    let d = tmp("bad-full-partial");
    let out = d.join("out");
    let folder = seed000_copy(&d);
    let mut cmd = cli(["apply", "--target", "acme"]);
    cmd.arg(&folder).arg("--out").arg(&out);
    with_file_size_limit(&mut cmd, 2000);
    refused_in(&d, &mut cmd, &["File too large"]);
    // The same without a full disk: a later output's folder blocked by a file.
    let input = d.join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::write(input.join("a.xml"), "<unload/>").unwrap();
    std::fs::write(input.join("sub/b.xml"), "<unload/>").unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("sub"), "a file where out/sub/ should go").unwrap();
    refused_in(
        &d,
        cli(["apply", "--target", "acme"])
            .arg(&input)
            .arg("--out")
            .arg(&out),
        &["sub"],
    );
}

#[test]
fn apply_writes_no_output_when_the_report_fails() {
    let d = tmp("bad-report");
    let input = d.join("in.xml");
    std::fs::write(&input, secret_export()).unwrap();
    let blocker = d.join("file.txt");
    std::fs::write(&blocker, "x").unwrap();
    refused_in(
        &d,
        cli(["apply", "--target", "acme"])
            .arg(&input)
            .arg("--out")
            .arg(d.join("out.xml"))
            .arg("--report")
            .arg(blocker.join("report.json")),
        &["report.json"],
    );
    // A full disk: the output (under 4,000 bytes) is written, the report (over) is not.
    let mut cmd = cli(["apply", "--target", "acme", "--sys-ids", "regenerate"]);
    cmd.arg(&input)
        .arg("--out")
        .arg(d.join("out2.xml"))
        .arg("--report")
        .arg(d.join("report.json"));
    with_file_size_limit(&mut cmd, 4000);
    refused_in(&d, &mut cmd, &["report.json", "File too large"]);
}

/// Over the output check's limit (64 MB), `apply` checks each output for ciphertext while it is
/// written: one left (on the root element, where no rule replaces it) still refuses the run,
/// with nothing written and the ciphertext in no message.
#[test]
#[ignore = "large: a 65 MB input; .ci/run runs it"]
fn ciphertext_left_in_a_large_output_is_refused_while_written() {
    let d = tmp("bad-large-left");
    let path = d.join("large.xml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all("<unload note=\"\u{FDDE}\u{FDDF}c2VjcmV0\u{FDEE}\u{FDEF}\">\n<sys_properties action=\"INSERT_OR_UPDATE\"><name>big</name><value>https://dev12345.service-now.com/ ".as_bytes()).unwrap();
        for _ in 0..650_000 {
            f.write_all(&[b'x'; 100]).unwrap();
        }
        f.write_all(b"</value></sys_properties>\n</unload>\n")
            .unwrap();
    }
    let out = d.join("out.xml");
    let r = refused_in(
        &d,
        cli(["apply", "--target", "acme", "--source", "dev12345", "--out"])
            .arg(&out)
            .arg(&path),
        &[&s(&path)],
    );
    assert!(r.stderr.contains("ciphertext left"), "{}", r.stderr);
    assert!(!r.stderr.contains("c2VjcmV0"), "{}", r.stderr);
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&d);
}
