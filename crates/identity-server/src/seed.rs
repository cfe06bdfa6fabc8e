//! The demo users of Duende's `isaspid` template (`SeedData.cs`): alice and bob, confirmed
//! emails, password `Pass123$` and their profile claims. Seeding is idempotent: a user that exists
//! is left as it is, also when another instance seeding at the same time created it first.

use crate::error::Result;
use crate::identity::{Identity, check};
use identity_core::{IdentityUser, StoredClaim};

/// The demo users' password.
const DEMO_PASSWORD: &str = "Pass123$";

/// A demo user.
struct DemoUser {
    user_name: &'static str,
    email: &'static str,
    claims: &'static [(&'static str, &'static str)],
}

/// The template's users, in its order.
const DEMO_USERS: [DemoUser; 2] = [
    DemoUser {
        user_name: "alice",
        email: "AliceSmith@example.com",
        claims: &[
            ("name", "Alice Smith"),
            ("given_name", "Alice"),
            ("family_name", "Smith"),
            ("website", "http://alice.example.com"),
        ],
    },
    DemoUser {
        user_name: "bob",
        email: "BobSmith@example.com",
        claims: &[
            ("name", "Bob Smith"),
            ("given_name", "Bob"),
            ("family_name", "Smith"),
            ("website", "http://bob.example.com"),
            ("location", "somewhere"),
        ],
    },
];

/// Creates the demo users that do not exist; returns one line per user saying what happened.
pub(crate) async fn seed(identity: &Identity) -> Result<Vec<String>> {
    let mut outcomes = Vec::new();
    for demo in &DEMO_USERS {
        if identity.users.find_by_name(demo.user_name).await?.is_some() {
            outcomes.push(format!("{} already exists", demo.user_name));
            continue;
        }
        let mut user = IdentityUser::<()>::new(demo.user_name);
        user.email = Some(demo.email.to_owned());
        user.email_confirmed = true;
        let doing = format!("cannot create the demo user `{}`", demo.user_name);
        let created = identity.users.create_with_password(&mut user, DEMO_PASSWORD).await;
        // Another instance seeding at the same moment may have created the user since the
        // lookup above: that is seeded, not a failure.
        let refused = created.as_ref().map_or(true, |result| !result.succeeded());
        if refused && identity.users.find_by_name(demo.user_name).await?.is_some() {
            outcomes.push(format!("{} already exists (created meanwhile by another process)", demo.user_name));
            continue;
        }
        check(created?, &doing)?;
        let claims: Vec<StoredClaim> =
            demo.claims.iter().map(|(claim_type, value)| StoredClaim::new(*claim_type, *value)).collect();
        check(identity.users.add_claims(&mut user, &claims).await?, &doing)?;
        outcomes.push(format!("{} created", demo.user_name));
    }
    Ok(outcomes)
}
