//! `serve`: the token server with the ASP.NET Identity adapter and the login, consent and logout
//! pages, on the configured database, until SIGINT or SIGTERM.
//!
//! Once the server is ready it prints one line on stdout, `listening on http://ADDRESS` (or
//! `https://` with `[tls]`), with the address actually bound (so `--listen 127.0.0.1:0` tells
//! which port it got); everything else goes to the log on stderr.

use crate::cli::ServeArgs;
use crate::clients::ClientCatalog;
use crate::config::ServerModel;
use crate::database;
use crate::email::Outbox;
use crate::error::{Failure, Result};
use crate::events::Events;
use crate::identity::Identity;
use crate::listener;
use crate::metrics::Metrics;
use crate::pages::{AccountSettings, PageSettings, Pages};
use crate::proxy::{self, TrustedProxies};
use crate::seed;
use crate::settings::Settings;
use axum::Router;
use identity_oidc::{AspNetIdentity, ServerBuilderExt as _};
use oidc_server::{OidcServer, ServerOptions};
use std::io::Write as _;
use std::sync::Arc;

/// The shortest secret `serve` accepts, in bytes.
const MINIMUM_SECRET_LENGTH: usize = 32;

/// Runs the server until a shutdown signal.
pub(crate) async fn serve(settings: Settings, args: ServeArgs) -> Result<()> {
    if settings.is_demo() {
        tracing::warn!(
            "NO CONFIGURATION FILE: serving the DEMO configuration (well-known client secrets, from \
             config/example.toml). It is for development only: pass --config FILE in any other setting"
        );
    } else {
        require_secrets(&settings)?;
    }
    let model = settings.config.file.server_model()?;
    let identity = Identity::open(&settings).await?;
    if args.seed {
        for outcome in seed::seed(&identity).await? {
            tracing::info!("seed: {outcome}");
        }
    }

    // Read before binding, so that a bad certificate stops the start before anything listens.
    let tls = settings.tls()?.map(|files| files.server_config()).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let proxies = settings.trusted_proxies()?;
    let listen = settings.listen(args.listen);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|error| Failure::context(format!("cannot listen on {listen}"), error))?;
    let address = listener.local_addr()?;
    if settings.is_demo() && !address.ip().is_loopback() {
        return Err(Failure::new(format!(
            "the demo configuration (well-known client secrets and demo passwords) only serves on a loopback \
             address, not {address}: pass --config FILE to serve on other addresses"
        )));
    }
    let issuer = match settings.issuer(args.issuer) {
        Some(issuer) if tls.is_some() && !issuer.starts_with("https://") => {
            return Err(Failure::new(format!(
                "[tls] is set, so the server speaks only HTTPS, but the issuer `{issuer}` is not https"
            )));
        }
        Some(issuer) => issuer,
        None => {
            if address.ip().is_unspecified() {
                tracing::warn!(%address, "the issuer follows the bound address, which clients cannot reach: set --issuer");
            }
            format!("{scheme}://{address}")
        }
    };
    let limits = settings.limits(ServerOptions::default().max_request_body_bytes)?;
    let (server, app) = build_app(&settings, model, identity, issuer, proxies).await?;

    println!("listening on {scheme}://{address}");
    std::io::stdout().flush()?;
    tracing::info!(
        %address,
        issuer = server.issuer(),
        database = %settings.database_url,
        config = %settings.config.source,
        "identity server started"
    );
    listener::serve(listener, app, limits, tls, shutdown_signal()).await?;
    tracing::info!("identity server stopped");
    Ok(())
}

/// The token server (the file's and the stored clients, the configured resources, the identity
/// adapter, and the database stores for refresh tokens, sessions and signing keys) and the application: its endpoints and the pages.
async fn build_app(
    settings: &Settings,
    model: ServerModel,
    identity: Identity,
    issuer: String,
    proxies: TrustedProxies,
) -> Result<(OidcServer, Router)> {
    let grants = database::grant_store(&identity.db);
    let keys = database::signing_key_store(&identity.db);
    let adapter = AspNetIdentity::new(identity.users.clone(), identity.roles);
    let metrics = settings.config.file.metrics.enabled.then(|| Metrics::new(identity.users.hashing_pool().clone()));
    let events = Events::new(metrics.clone());
    let mut options = ServerOptions::default();
    options.session = settings.session_options()?;
    options.key_management = settings.key_management()?;
    if settings.config.file.account.allow_registration {
        options.create_account_url = Some(crate::pages::REGISTER_PATH.to_owned());
    }
    let client_store = settings.config.file.client_store;
    let stored_clients = client_store.enabled.then(|| database::client_documents(&identity.db));
    let clients = Arc::new(ClientCatalog::open(model.clients, stored_clients, client_store.cache_lifetime.0).await?);
    let mut builder = OidcServer::builder(issuer)
        .options(options)
        .clock(identity.clock.clone())
        .client_store(clients.clone())
        .event_sink(Arc::new(events.clone()))
        .identity_resources(model.identity_resources)
        .api_scopes(model.api_scopes)
        .api_resources(model.api_resources)
        .persisted_grant_store(grants.clone())
        .session_store(database::session_store(&identity.db))
        .signing_key_store(keys)
        .add_asp_net_identity(adapter);
    if let Some(secret) = &settings.key_encryption_secret {
        builder = builder.key_encryption_secret(secret.as_bytes());
    }
    if let Some(secret) = &settings.session_secret {
        builder = builder.session_secret(secret.as_bytes());
    }
    let server = builder.build().await.map_err(|error| Failure::context("cannot start the token server", error))?;
    database::spawn_cleanup(grants, server.clone());
    database::spawn_logout_delivery(server.clone());
    let session_secret = settings.session_secret.as_deref().map(str::as_bytes);
    let email = settings.email()?;
    let outbox = Outbox::start(email.sender()?, email.is_configured());
    let account = AccountSettings { allow_registration: settings.config.file.account.allow_registration };
    let page_settings = PageSettings {
        session_secret,
        clients,
        static_dir: settings.static_dir(),
        account,
        outbox,
        throttling: settings.config.file.throttling,
        events,
    };
    let pages = Pages::new(server.clone(), identity.users, page_settings);
    let health = crate::health::router(identity.db.clone(), server.clone());
    let mut app = server.router().merge(pages.router()).merge(health);
    if let Some(metrics) = metrics {
        app = metrics.instrument(app);
    }
    if !proxies.is_empty() {
        app = app.layer(axum::middleware::from_fn_with_state(Arc::new(proxies), proxy::attribute_to_client));
    }
    Ok((server, app))
}

/// A configuration file must come with the three secrets: without them signing keys would lie
/// unencrypted in the database, each instance would invent its own session secret, and signed
/// links could not be made. Every missing or short one is named.
pub(crate) fn require_secrets(settings: &Settings) -> Result<()> {
    let secrets = [
        ("IDENTITY_KEY_ENCRYPTION_SECRET", "key_encryption_secret", &settings.key_encryption_secret),
        ("IDENTITY_SESSION_SECRET", "session_secret", &settings.session_secret),
        ("IDENTITY_TOKEN_SECRET", "token_secret", &settings.token_secret),
    ];
    let problems: Vec<String> = secrets
        .iter()
        .filter_map(|(variable, key, value)| match value {
            None => Some(format!("{variable} (or `{key}` in the file) is not set")),
            Some(secret) if secret.len() < MINIMUM_SECRET_LENGTH => {
                Some(format!("{variable} (or `{key}`) is shorter than {MINIMUM_SECRET_LENGTH} bytes"))
            }
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "refusing to serve {} without its secrets: {}",
        settings.config.source,
        problems.join("; ")
    )))
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
