//! A scoped application in ServiceNow's source-control layout, generated: the shape of the two
//! real applications of `../shared/apps` at any size.
//!
//! `sn_source_control.properties` naming a folder named by the application's sys_id, holding
//! `sys_app_<id>.xml`, `checksum.txt`, `dictionary/<table>.xml` per table, and under
//! `update/` and `author_elective_update/` one pretty-printed `<record_update>` per record:
//! each table's `sys_db_object`, `sys_dictionary_<table>_<column>`,
//! `sys_documentation_<table>_<column>_en` and `sys_choice_<table>_<column>` records, then script
//! includes (`x_ns.Util`, `new x_ns.Util()`), business rules, ACLs (`x_ns_table.field`) and
//! their roles (`x_ns.admin`), properties (`x_ns.prop`), scripted REST operations
//! (`/api/x_ns/...`), modules with encoded queries, UI policies, client scripts, events, and
//! deleted records carrying their previous version in a payload. Scripts and queries hold the
//! sys_ids of other records of the application and of platform records.

use std::fmt::Write;
use std::path::PathBuf;

use super::Rng;

/// The generated application's namespace.
pub const APP_NAMESPACE: &str = "x_12345_synth";

const NS: &str = APP_NAMESPACE;
const NAME: &str = "Synth Requests";
const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const COLUMNS: [&str; 6] = [
    "u_requested_for",
    "u_state",
    "u_due",
    "u_notes",
    "u_category",
    "u_amount",
];

fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One record's file: the fields given (already written as XML content; `""` for `<f/>`),
/// plus the application's scope fields, sorted by name as ServiceNow writes them.
struct Rec {
    table: &'static str,
    id: String,
    fields: Vec<(String, String)>,
}

impl Rec {
    fn new(table: &'static str, id: &str) -> Rec {
        Rec {
            table,
            id: id.to_string(),
            fields: Vec::new(),
        }
    }

    fn f(mut self, name: &str, content: impl Into<String>) -> Rec {
        self.fields.push((name.to_string(), content.into()));
        self
    }

    fn element(name: &str, content: &str) -> String {
        match content.is_empty() {
            true => format!("        <{name}/>\n"),
            false if content.starts_with('<') && !content.starts_with("<![") => {
                // A reference: `<f display_value="...">id</f>` given as `<"attrs">id`.
                let (attrs, value) = content[1..].split_once('>').unwrap_or(("", content));
                format!("        <{name} {attrs}>{value}</{name}>\n")
            }
            false => format!("        <{name}>{content}</{name}>\n"),
        }
    }

    /// The record element (4-space indented) with the application's scope fields.
    fn body(mut self, app_id: &str, update_name: &str, action: &str) -> String {
        let scope = [
            ("sys_class_name", self.table.to_string()),
            ("sys_created_by", "admin".into()),
            ("sys_created_on", "2024-05-02 09:14:31".into()),
            ("sys_id", self.id.clone()),
            ("sys_mod_count", "3".into()),
            (
                "sys_package",
                format!("<display_value=\"{NAME}\" source=\"{NS}\">{app_id}"),
            ),
            ("sys_policy", String::new()),
            ("sys_scope", format!("<display_value=\"{NAME}\">{app_id}")),
            ("sys_update_name", update_name.to_string()),
            ("sys_updated_by", "admin".into()),
            ("sys_updated_on", "2024-05-03 11:02:07".into()),
        ];
        // What most metadata records carry besides (unless the record set it).
        let usual = [
            ("access", "public".to_string()),
            ("active", "true".into()),
            ("advanced", "false".into()),
            ("condition", String::new()),
            (
                "description",
                format!("Part of {NAME} ({NS}); see the {NS}.admin role."),
            ),
            ("order", "100".into()),
            ("roles", format!("{NS}.user,{NS}.admin")),
            ("sys_domain", "global".into()),
            ("sys_domain_path", "/".into()),
            ("sys_name", format!("{} {}", self.table, &self.id[..8])),
            ("sys_overrides", String::new()),
            ("view", String::new()),
        ];
        for (n, v) in usual {
            if !self.fields.iter().any(|(f, _)| f == n) {
                self.fields.push((n.to_string(), v));
            }
        }
        self.fields
            .extend(scope.into_iter().map(|(n, v)| (n.to_string(), v)));
        self.fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = format!("    <{} action=\"{action}\">\n", self.table);
        for (n, v) in &self.fields {
            out.push_str(&Rec::element(n, v));
        }
        let _ = writeln!(out, "    </{}>", self.table);
        out
    }

    fn file(self, app_id: &str, update_name: &str) -> Vec<u8> {
        let table = self.table;
        let body = self.body(app_id, update_name, "INSERT_OR_UPDATE");
        format!("{DECL}<record_update table=\"{table}\">\n{body}</record_update>\n").into_bytes()
    }
}

fn script(rng: &mut Rng, k: usize, tables: &[String], ids: &[String]) -> String {
    let pick = |rng: &mut Rng, v: &[String]| v[rng.below(v.len() as u64) as usize].clone();
    let mut s = format!("var Util{k} = Class.create();\nUtil{k}.prototype = {{\n");
    for m in 0..6 {
        let (t, id, j) = (pick(rng, tables), pick(rng, ids), rng.below(40));
        let _ = write!(
            s,
            "    step{m}: function(current) {{\n        var gr = new GlideRecord('{t}');\n        gr.addEncodedQuery('u_state=2^sys_id!={id}');\n        gr.query();\n        while (gr.next() && gr.u_amount > 10) {{\n            new {NS}.Util{j}().notify(gr, gs.getProperty('{NS}.prop{j}'));\n        }}\n        return gs.hasRole('{NS}.admin') && current.u_state != 3;\n    }},\n"
        );
    }
    let _ = write!(s, "    type: 'Util{k}'\n}};");
    s
}

/// A scoped application of `files` files (at least 6), from `seed`, as `(path, bytes)` in
/// source-control layout (see the module docs). The same arguments give the same files.
///
/// ```
/// use sn_retarget::synth::{app, APP_NAMESPACE};
/// let files = app(60, 1);
/// assert_eq!(files.len(), 60);
/// assert_eq!(files, app(60, 1));
/// assert!(files.iter().any(|(p, _)| p.ends_with("sn_source_control.properties")));
/// assert!(files.iter().any(|(p, b)| p.starts_with("update") == false
///     && String::from_utf8_lossy(b).contains(APP_NAMESPACE)));
/// ```
pub fn app(files: usize, seed: u64) -> Vec<(PathBuf, Vec<u8>)> {
    let files = files.max(6);
    let mut rng = Rng::new(seed);
    let app_id = rng.sys_id();
    let dir = PathBuf::from(&app_id);
    let mut out: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(files);
    out.push((
        "sn_source_control.properties".into(),
        format!("#############################################################\n# This ServiceNow-created file contains the path to the app in this repo\n# path=<path to app content in your repo>\n#Thu May 02 09:14:31 PDT 2024\npath={app_id}\n").into_bytes(),
    ));
    out.push((
        dir.join("checksum.txt"),
        format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()).into_bytes(),
    ));
    let app_rec = format!(
        "{DECL}<record_update table=\"sys_app\">\n    <sys_app action=\"INSERT_OR_UPDATE\">\n        <active>true</active>\n        <name>{NAME}</name>\n        <scope>{NS}</scope>\n        <source>{NS}</source>\n        <sys_class_name>sys_app</sys_class_name>\n        <sys_id>{app_id}</sys_id>\n        <version>1.0.0</version>\n    </sys_app>\n</record_update>\n"
    );
    out.push((
        dir.join(format!("sys_app_{app_id}.xml")),
        app_rec.into_bytes(),
    ));
    // Platform records the application points at (not in it).
    let platform: Vec<String> = (0..16).map(|_| rng.sys_id()).collect();
    let tables: Vec<String> = (0..(files / 40).clamp(1, 40))
        .map(|t| format!("{NS}_t{t}"))
        .collect();
    let mut g = AppFiles {
        files,
        out,
        ids: platform.clone(),
        platform,
        rng,
        update: dir.join("update"),
        elective: dir.join("author_elective_update"),
        dir,
        app_id,
    };
    for t in &tables {
        if g.full() {
            break;
        }
        g.table_files(t);
    }
    let mut k = 0;
    while !g.full() {
        k += 1;
        let id = g.rng.sys_id();
        let t = tables[g.rng.below(tables.len() as u64) as usize].clone();
        let other = g.ids[g.rng.below(g.ids.len() as u64) as usize].clone();
        let rec = g.kth_record(k, &id, &t, &other, &tables);
        let table = rec.table;
        let name = format!("{table}_{id}");
        g.ids.push(id.clone());
        if k % 17 == 0 {
            g.deleted(rec, &name);
        } else {
            let bytes = rec.file(&g.app_id, &name);
            g.out.push((g.update.join(format!("{name}.xml")), bytes));
        }
    }
    g.out
}

/// The application's files as they are generated, and what the next ones draw from.
struct AppFiles {
    /// How many files to make.
    files: usize,
    out: Vec<(PathBuf, Vec<u8>)>,
    /// sys_ids records may point at: platform records', then the application's.
    ids: Vec<String>,
    /// Platform records the application points at (not in it).
    platform: Vec<String>,
    rng: Rng,
    app_id: String,
    dir: PathBuf,
    update: PathBuf,
    elective: PathBuf,
}

impl AppFiles {
    fn full(&self) -> bool {
        self.out.len() >= self.files
    }

    /// Table `t`: its dictionary file, its `sys_db_object`, and per column its
    /// `sys_dictionary`, `sys_documentation` and (for two) `sys_choice` records.
    fn table_files(&mut self, t: &str) {
        // A column's reference: the user for `u_requested_for`, else the table itself.
        let reference = |c: &str| {
            if c == "u_requested_for" {
                "sys_user"
            } else {
                t
            }
        };
        let mut db = format!(
            "{DECL}<database>\n    <element label=\"{t}\" max_length=\"40\" name=\"{t}\" type=\"collection\">\n"
        );
        for c in COLUMNS {
            let _ = writeln!(
                db,
                "        <element label=\"{c}\" max_length=\"40\" name=\"{c}\" reference=\"{}\" type=\"string\"/>",
                reference(c)
            );
        }
        db.push_str("    </element>\n</database>\n");
        self.out.push((
            self.dir.join("dictionary").join(format!("{t}.xml")),
            db.into_bytes(),
        ));
        let id = self.rng.sys_id();
        self.ids.push(id.clone());
        let rec = Rec::new("sys_db_object", &id)
            .f("label", text(t))
            .f("name", t)
            .f(
                "super_class",
                format!("<display_value=\"Task\">{}", self.platform[0]),
            );
        self.out.push((
            self.update.join(format!("sys_db_object_{id}.xml")),
            rec.file(&self.app_id, &format!("sys_db_object_{id}")),
        ));
        for c in COLUMNS {
            if self.full() {
                break;
            }
            let id = self.rng.sys_id();
            let name = format!("sys_dictionary_{t}_{c}");
            let rec = Rec::new("sys_dictionary", &id)
                .f("column_label", c)
                .f("element", c)
                .f("name", t)
                .f("reference", reference(c));
            self.out.push((
                self.update.join(format!("{name}.xml")),
                rec.file(&self.app_id, &name),
            ));
            let id = self.rng.sys_id();
            let name = format!("sys_documentation_{t}_{c}_en");
            let rec = Rec::new("sys_documentation", &id)
                .f("element", c)
                .f("label", c)
                .f("language", "en")
                .f("name", t);
            self.out.push((
                self.update.join(format!("{name}.xml")),
                rec.file(&self.app_id, &name),
            ));
            if c == "u_state" || c == "u_category" {
                let id = self.rng.sys_id();
                let name = format!("sys_choice_{t}_{c}");
                let rec = Rec::new("sys_choice", &id)
                    .f("element", c)
                    .f("label", "Open")
                    .f("name", t)
                    .f("value", "1");
                self.out.push((
                    self.elective.join(format!("{name}.xml")),
                    rec.file(&self.app_id, &name),
                ));
            }
        }
    }

    /// The `k`-th record after the tables (`id`, of a kind chosen by `k`, naming table `t` and
    /// the record `other`).
    fn kth_record(&mut self, k: usize, id: &str, t: &str, other: &str, tables: &[String]) -> Rec {
        match k % 11 {
        // Now and then a large one (real applications have pages and flows of 10-40 KB).
        _ if k % 23 == 0 => {
            let mut html = String::from("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<j:jelly trim=\"false\" xmlns:j=\"jelly:core\" xmlns:g=\"glide\">\n");
            for row in 0..120 {
                let _ = writeln!(
                    html,
                    "  <g:evaluate var=\"jvar_r{row}\">var gr{row} = new GlideRecord('{t}'); gr{row}.get('{other}'); new {NS}.Util{row}().label(gr{row});</g:evaluate><div class=\"row\">${{jvar_r{row}}}</div>"
                );
            }
            html.push_str("</j:jelly>");
            Rec::new("sys_ui_page", id)
                .f("category", "general")
                .f("html", format!("<![CDATA[{html}]]>"))
                .f("name", format!("{NS}_page{k}"))
        }
        0 => Rec::new("sys_script_include", id)
            .f("api_name", format!("{NS}.Util{k}"))
            .f("client_callable", "false")
            .f("name", format!("Util{k}"))
            .f("script", format!("<![CDATA[{}]]>", script(&mut self.rng, k, tables, &self.ids))),
        1 => Rec::new("sys_script", id)
            .f("collection", t)
            .f("filter_condition", format!("<table=\"{t}\">u_state=2^u_requested_for={other}^EQ"))
            .f("name", format!("Rule {k}"))
            .f("script", format!("<![CDATA[(function executeRule(current, previous) {{\n    if (current.u_state == 2 && previous.u_state != 2) {{\n        gs.eventQueue('{NS}.event{k}', current, '{other}');\n    }}\n}})(current, previous);]]>")),
        2 => Rec::new("sys_security_acl", id)
            .f("description", format!("Default access control on {t}"))
            .f("name", format!("{t}.u_notes"))
            .f("operation", format!("<display_value=\"read\">{}", self.platform[1]))
            .f("type", format!("<display_value=\"record\">{}", self.platform[2])),
        3 => Rec::new("sys_security_acl_role", id)
            .f("sys_security_acl", format!("<display_value=\"{t}\">{other}"))
            .f("sys_user_role", format!("<display_value=\"{NS}.admin\">{}", self.platform[3])),
        4 => Rec::new("sys_user_role", id)
            .f("name", format!("{NS}.role{k}"))
            .f("suffix", format!("role{k}")),
        5 => Rec::new("sys_properties", id)
            .f("description", format!("Limit for {NS}"))
            .f("name", format!("{NS}.prop{k}"))
            .f("type", "integer")
            .f("value", "25"),
        6 => Rec::new("sys_ws_operation", id)
            .f("http_method", "GET")
            .f("name", format!("items{k}"))
            .f("operation_script", format!("<![CDATA[(function process(request, response) {{\n    var gr = new GlideRecord('{t}');\n    gr.get(request.pathParams.id);\n    response.setBody({{ self: '/api/{NS}/svc/items/' + gr.sys_id }});\n}})(request, response);]]>"))
            .f("operation_uri", format!("/api/{NS}/svc/items{k}"))
            .f("web_service_definition", format!("<display_value=\"svc\">{other}")),
        7 => Rec::new("sys_app_module", id)
            .f("filter", format!("u_state!=3^sys_id!={other}"))
            .f("link_type", "LIST")
            .f("name", t)
            .f("query", format!("{t}.do?sysparm_query=active%3Dtrue"))
            .f("title", format!("Open {k}")),
        8 => Rec::new("sys_ui_policy", id)
            .f("conditions", "u_state=1^EQ")
            .f("short_description", format!("Policy {k}"))
            .f("table", t),
        9 => Rec::new("sys_script_client", id)
            .f("script", format!("<![CDATA[function onChange(control, oldValue, newValue) {{\n    var ga = new GlideAjax('{NS}.Util{k}');\n    ga.addParam('sysparm_id', '{other}');\n    ga.getXMLAnswer(function(a) {{ g_form.setValue('u_notes', a); }});\n}}]]>"))
            .f("table", t),
        _ => Rec::new("sysevent_register", id)
            .f("event_name", format!("{NS}.event{k}"))
            .f("table", t),
    }
    }

    /// A deleted record: the DELETE, its previous version in a payload, the deletion.
    fn deleted(&mut self, rec: Rec, name: &str) {
        let table = rec.table;
        let id = rec.id.clone();
        let app_id = self.app_id.clone();
        let previous = rec.file(&self.app_id, name);
        let previous = String::from_utf8_lossy(&previous)
            .replace("\n", "")
            .replace("    ", "");
        // Escaped when it holds CDATA of its own, as ServiceNow writes it.
        let payload = match previous.contains("<![CDATA[") {
            true => text(&previous),
            false => format!("<![CDATA[{previous}]]>"),
        };
        let version_id = self.rng.sys_id();
        let delete_id = self.rng.sys_id();
        let doc = format!(
            "{DECL}<record_update table=\"{table}\">\n    <{table} action=\"DELETE\">\n        <sys_id>{id}</sys_id>\n    </{table}>\n    <sys_update_version action=\"INSERT_OR_UPDATE\">\n        <action>DELETE</action>\n        <application display_value=\"{NAME}\">{app_id}</application>\n        <name>{name}</name>\n        <payload>{payload}</payload>\n        <sys_id>{version_id}</sys_id>\n    </sys_update_version>\n    <sys_metadata_delete action=\"INSERT_OR_UPDATE\">\n        <sys_db_object display_value=\"\" name=\"{table}\">{table}</sys_db_object>\n        <sys_id>{delete_id}</sys_id>\n        <sys_metadata>{id}</sys_metadata>\n        <sys_update_name>{name}</sys_update_name>\n    </sys_metadata_delete>\n</record_update>\n"
        );
        self.out
            .push((self.elective.join(format!("{name}.xml")), doc.into_bytes()));
    }
}
