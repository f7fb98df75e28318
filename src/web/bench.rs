//! The framework ceiling for `bench/run`: `GET /bench/ping`, a handler that does no work, served
//! through every layer a real page passes. Registered only when `OUTBOUND_BENCH=1` is set at
//! start; otherwise the path is an ordinary 404.

use axum::Router;
use axum::routing::get;

use super::AppState;

/// The environment variable that enables the route.
pub const ENV: &str = "OUTBOUND_BENCH";

/// `/bench/ping` when [`ENV`] is `1`, nothing otherwise.
pub fn router() -> Router<AppState> {
    router_if(std::env::var(ENV).is_ok_and(|v| v == "1"))
}

fn router_if(enabled: bool) -> Router<AppState> {
    if enabled {
        Router::new().route("/bench/ping", get(ping))
    } else {
        Router::new()
    }
}

async fn ping() -> &'static str {
    "pong"
}

#[cfg(test)]
mod tests {
    use super::router_if;

    #[test]
    fn the_ping_route_exists_only_when_enabled() {
        assert!(router_if(true).has_routes());
        assert!(!router_if(false).has_routes());
    }
}
