//! `mamori user add|passwd|disable|enable|list`: accounts of the review
//! screen, kept in the findings database. Passwords are read from stdin
//! (one line) or, on a terminal, asked for twice without echo; they are
//! stored as argon2id hashes only.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use mamori::cli::{UserAction, UserArgs};
use mamori::config::Config;
use mamori::keys::KeySet;
use mamori::paths::escape_control;
use mamori::store::{web as db, Store};
use mamori::web::accounts;

/// The store of a configuration (created if missing: accounts may be made
/// before the first scan).
fn open(config: &std::path::Path) -> Result<(Config, Store)> {
    let cfg = Config::load(config)?;
    let key = mamori::keys::load_or_create(&cfg.key_file())
        .with_context(|| format!("fingerprint key {}", cfg.key_file().display()))?;
    let store = Store::open(&cfg.store.database, &KeySet::new(key))?;
    Ok((cfg, store))
}

/// A new password: from a terminal, asked twice; otherwise the first line
/// of stdin.
fn read_password(name: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    accounts::check_password(&password)?;
    Ok(password)
}

pub fn run(args: UserArgs) -> Result<ExitCode> {
    match args.action {
        UserAction::Add {
            name,
            role,
            roots,
            config,
            central,
        } => {
            accounts::check_name(&name)?;
            let (cfg, store) = open(&config)?;
            let known: Vec<String> = match super::central::target(&central)? {
                Some(t) if !roots.is_empty() => {
                    mamori::central::web::root_names(&mut super::central::connect(&t)?)?
                }
                _ => cfg.roots.iter().map(|x| x.label.clone()).collect(),
            };
            for r in &roots {
                if !known.contains(r) {
                    bail!(
                        "no root labelled {:?} in the {}",
                        escape_control(r),
                        if central.url.is_some() {
                            "central database (SITE or SITE:LABEL)"
                        } else {
                            "configuration"
                        }
                    );
                }
            }
            let hash = accounts::hash_password(&read_password(&name)?)?;
            db::create_user(store.connection(), &name, role.as_str(), &hash, &roots)?;
            db::audit(
                store.connection(),
                "web_user_admin",
                None,
                None,
                &format!(
                    "mamori user add {name} ({role}; roots: {})",
                    roots.join(", ")
                ),
            )?;
            println!("user {name} added ({role})");
        }
        UserAction::Passwd { name, config } => {
            let (_, store) = open(&config)?;
            if db::user_by_name(store.connection(), &name)?.is_none() {
                bail!("no user named {:?}", escape_control(&name));
            }
            let hash = accounts::hash_password(&read_password(&name)?)?;
            db::set_password(store.connection(), &name, &hash)?;
            db::audit(
                store.connection(),
                "web_user_admin",
                None,
                None,
                &format!("mamori user passwd {name}"),
            )?;
            println!("password of {name} set; their sessions ended");
        }
        UserAction::Disable { name, config } => set_disabled(&name, &config, true)?,
        UserAction::Enable { name, config } => set_disabled(&name, &config, false)?,
        UserAction::List { config } => {
            let (_, store) = open(&config)?;
            for u in db::users(store.connection())? {
                println!(
                    "{:<20} {:<9} {:<9} roots: {:<24} created {}  password changed {}",
                    u.name,
                    u.role,
                    if u.disabled { "disabled" } else { "enabled" },
                    if u.roots.is_empty() {
                        "(all)".to_string()
                    } else {
                        u.roots.join(", ")
                    },
                    u.created_at,
                    u.password_changed_at
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn set_disabled(name: &str, config: &std::path::Path, disabled: bool) -> Result<()> {
    let (_, store) = open(config)?;
    let what = if disabled { "disabled" } else { "enabled" };
    if disabled {
        let target = db::user_by_name(store.connection(), name)?;
        if let Some((u, _)) = &target {
            if u.role == "admin" && !u.disabled && db::enabled_admins(store.connection())? <= 1 {
                bail!("{name} is the last enabled admin: add another admin first");
            }
        }
    }
    db::set_disabled(store.connection(), name, disabled)?;
    db::audit(
        store.connection(),
        "web_user_admin",
        None,
        None,
        &format!(
            "mamori user {} {name}",
            if disabled { "disable" } else { "enable" }
        ),
    )?;
    println!("user {name} {what}");
    Ok(())
}
