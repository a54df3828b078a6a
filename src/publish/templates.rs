//! The site's Handlebars templates: HTML with HTML escaping, Markdown with
//! Markdown escaping, both strict. A file of the same name in `[templates]
//! dir` replaces a built-in one; replacements are compiled when loaded, so a
//! broken one fails the command before anything is written.

use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

/// How a template's output is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Markdown,
    /// A partial of the HTML pages.
    HtmlPartial,
}

/// File name, kind and built-in text of every site template.
const BUILTIN: &[(&str, Kind, &str)] = &[
    (
        "site-style.css.hbs",
        Kind::HtmlPartial,
        include_str!("../../templates/site-style.css.hbs"),
    ),
    (
        "site-header.html.hbs",
        Kind::HtmlPartial,
        include_str!("../../templates/site-header.html.hbs"),
    ),
    (
        "site-footer.html.hbs",
        Kind::HtmlPartial,
        include_str!("../../templates/site-footer.html.hbs"),
    ),
    (
        "hall-of-fame.html.hbs",
        Kind::Html,
        include_str!("../../templates/hall-of-fame.html.hbs"),
    ),
    (
        "hall-of-fame.md.hbs",
        Kind::Markdown,
        include_str!("../../templates/hall-of-fame.md.hbs"),
    ),
    (
        "security-updates.html.hbs",
        Kind::Html,
        include_str!("../../templates/security-updates.html.hbs"),
    ),
    (
        "statistics.html.hbs",
        Kind::Html,
        include_str!("../../templates/statistics.html.hbs"),
    ),
];

/// The file names a `[templates] dir` may hold for the site.
pub fn file_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _, _)| *name)
}

#[derive(Debug, thiserror::Error)]
pub enum SiteTemplateError {
    #[error("cannot read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {origin} does not compile: {source}")]
    Compile {
        origin: String,
        source: Box<handlebars::TemplateError>,
    },
    #[error("site template `{name}` failed to render: {source}")]
    Render {
        name: String,
        source: Box<handlebars::RenderError>,
    },
}

/// The compiled site templates.
#[derive(Debug)]
pub struct SiteTemplates {
    html: Handlebars<'static>,
    markdown: Handlebars<'static>,
}

impl SiteTemplates {
    /// The built-in templates only.
    pub fn builtin() -> Self {
        match Self::load(None) {
            Ok(t) => t,
            // The built-ins are compiled by a unit test; this cannot happen in
            // a released build, and an empty registry then fails each render.
            Err(_) => Self {
                html: registry(Kind::Html),
                markdown: registry(Kind::Markdown),
            },
        }
    }

    /// The built-ins, each replaced by the file of the same name in `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Self, SiteTemplateError> {
        let mut html = registry(Kind::Html);
        let mut markdown = registry(Kind::Markdown);
        for (file, kind, builtin) in BUILTIN {
            let path = dir.map(|d| d.join(file)).filter(|p| p.is_file());
            let (text, origin) = match &path {
                Some(path) => (
                    std::fs::read_to_string(path).map_err(|source| SiteTemplateError::Read {
                        path: path.clone(),
                        source,
                    })?,
                    path.display().to_string(),
                ),
                None => ((*builtin).to_owned(), format!("built-in `{file}`")),
            };
            let name = template_name(file);
            let compile = |source| SiteTemplateError::Compile {
                origin: origin.clone(),
                source: Box::new(source),
            };
            match kind {
                Kind::HtmlPartial => html.register_partial(name, text).map_err(compile)?,
                Kind::Html => html.register_template_string(name, text).map_err(compile)?,
                Kind::Markdown => markdown
                    .register_template_string(name, text)
                    .map_err(compile)?,
            }
        }
        Ok(Self { html, markdown })
    }

    /// Renders the HTML page `name` (e.g. `hall-of-fame`).
    pub fn html(&self, name: &str, data: &impl Serialize) -> Result<String, SiteTemplateError> {
        self.html
            .render(name, data)
            .map_err(|source| SiteTemplateError::Render {
                name: format!("{name}.html"),
                source: Box::new(source),
            })
    }

    /// Renders the Markdown document `name`.
    pub fn markdown(&self, name: &str, data: &impl Serialize) -> Result<String, SiteTemplateError> {
        self.markdown
            .render(name, data)
            .map_err(|source| SiteTemplateError::Render {
                name: format!("{name}.md"),
                source: Box::new(source),
            })
    }
}

/// `hall-of-fame.html.hbs` → `hall-of-fame`.
fn template_name(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

fn registry(kind: Kind) -> Handlebars<'static> {
    let mut registry = Handlebars::new();
    match kind {
        Kind::Markdown => registry.register_escape_fn(markdown_escape),
        // The default escape covers < > " & ' ` =.
        Kind::Html | Kind::HtmlPartial => {}
    }
    registry.set_strict_mode(true);
    registry
}

/// Backslash-escapes every character Markdown could read as markup, and
/// drops line breaks, so a value stays plain text on its own line.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '<' | '>' | '&' | '~' | '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_site_template_compiles() {
        let t = SiteTemplates::load(None).expect("built-ins compile");
        assert!(t.html.has_template("hall-of-fame"));
        assert!(t.markdown.has_template("hall-of-fame"));
    }

    #[test]
    fn a_file_in_the_template_dir_replaces_the_built_in_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("hall-of-fame.md.hbs"),
            "{{#each lines}}* {{name}}\n{{/each}}",
        )
        .expect("write");
        let t = SiteTemplates::load(Some(dir.path())).expect("load");
        let out = t
            .markdown(
                "hall-of-fame",
                &serde_json::json!({"lines": [{"name": "a_b"}]}),
            )
            .expect("render");
        assert_eq!(out, "* a\\_b\n");
    }

    #[test]
    fn site_templates_may_share_the_mail_templates_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("hall-of-fame.html.hbs"),
            "{{> site-header}}x{{> site-footer}}",
        )
        .expect("write");
        assert!(crate::respond::Templates::load(Some(dir.path())).is_ok());
        assert!(SiteTemplates::load(Some(dir.path())).is_ok());
    }

    #[test]
    fn a_broken_site_template_stops_the_configuration() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("statistics.html.hbs"), "{{#each}}").expect("write");
        let text = format!(
            "{}\n[templates]\ndir = \"{}\"\n",
            crate::config::tests::MINIMAL,
            dir.path().display()
        );
        let err =
            crate::settings::parse(&text, &dir.path().join("config.toml")).expect_err("refused");
        assert!(err.to_string().contains("statistics.html.hbs"), "{err}");
    }

    #[test]
    fn a_broken_override_is_refused_when_loaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("hall-of-fame.html.hbs"), "{{#if}}").expect("write");
        assert!(matches!(
            SiteTemplates::load(Some(dir.path())),
            Err(SiteTemplateError::Compile { .. })
        ));
    }
}
