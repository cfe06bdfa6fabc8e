//! Changing the email with a change-email token bound to the new address and to the security
//! stamp.

use crate::harness::{Harness, assert_failure, assert_succeeded};
use crate::{CaseError, CaseResult};
use identity_core::tokens::EmailTokenProvider;
use identity_core::{IdentityUser, UserManager};
use std::sync::Arc;

/// A created user named `foouser{guid}` with the unconfirmed email `{name}@diddly.bop`.
async fn user_with_email(h: &Harness, manager: &UserManager<()>) -> Result<IdentityUser, CaseError> {
    let mut user = h.create_test_user("foouser");
    user.email = Some(format!("{}@diddly.bop", user_name(&user)));
    let user = h.insert_user(manager, user).await?;
    assert!(!manager.is_email_confirmed(&user).await?);
    Ok(user)
}

fn user_name(user: &IdentityUser) -> &str {
    user.user_name.as_deref().expect("test users have names")
}

/// What a change of email may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EmailState {
    email: Option<String>,
    confirmed: bool,
    stamp: String,
}

impl EmailState {
    async fn of(manager: &UserManager<()>, user: &IdentityUser) -> Result<Self, CaseError> {
        Ok(Self {
            email: user.email.clone(),
            confirmed: manager.is_email_confirmed(user).await?,
            stamp: manager.get_security_stamp(user).await?,
        })
    }

    /// Asserts that `user` and its stored copy are in this state.
    async fn assert_is(&self, manager: &UserManager<()>, user: &IdentityUser) -> CaseResult {
        let stored = manager.find_by_id(&user.id).await?.expect("the user is stored");
        assert_eq!(&Self::of(manager, user).await?, self, "in memory");
        assert_eq!(&Self::of(manager, &stored).await?, self, "stored");
        Ok(())
    }

    /// Asserts that `user` and its stored copy have `email`, confirmed, with a stamp other than
    /// this state's.
    async fn assert_changed_to(&self, manager: &UserManager<()>, user: &IdentityUser, email: &str) -> CaseResult {
        let stored = manager.find_by_id(&user.id).await?.expect("the user is stored");
        for (copy, which) in [(user, "in memory"), (&stored, "stored")] {
            let now = Self::of(manager, copy).await?;
            assert_eq!(now.email.as_deref(), Some(email), "email ({which})");
            assert!(now.confirmed, "confirmed ({which})");
            assert_ne!(now.stamp, self.stamp, "stamp ({which})");
        }
        Ok(())
    }
}

/// Changes the email of a [`user_with_email`] with a token from `manager`'s configured provider.
async fn change_email_succeeds(h: &Harness, manager: &UserManager<()>) -> CaseResult {
    let mut user = user_with_email(h, manager).await?;
    let before = EmailState::of(manager, &user).await?;
    let new_email = format!("{}@en.vec", user_name(&user));
    let token = manager.generate_change_email_token(&user, &new_email).await?;
    assert_succeeded(&manager.change_email(&mut user, &new_email, &token).await?);
    before.assert_changed_to(manager, &user, &new_email).await
}

/// The token a failing change presents.
#[derive(Debug, Clone, Copy)]
enum BadToken<'a> {
    /// This literal text.
    Literal(&'a str),
    /// A genuine change-email token, but for this other address.
    IssuedFor(&'a str),
}

/// Tries to change the email of a [`user_with_email`] to `new_email` with `token` and asserts
/// `InvalidToken` with nothing changed.
async fn change_email_fails(h: &Harness, new_email: &str, token: BadToken<'_>) -> CaseResult {
    let manager = h.user_manager();
    let mut user = user_with_email(h, &manager).await?;
    let before = EmailState::of(&manager, &user).await?;
    let token = match token {
        BadToken::Literal(token) => token.to_owned(),
        BadToken::IssuedFor(email) => manager.generate_change_email_token(&user, email).await?,
    };
    assert_failure(&manager.change_email(&mut user, new_email, &token).await?, &manager.describer().invalid_token());
    before.assert_is(&manager, &user).await
}

/// `CanChangeEmail`.
pub async fn can_change_email(h: Harness) -> CaseResult {
    change_email_succeeds(&h, &h.user_manager()).await
}

/// `CanChangeEmailOnlyIfEmailSame`: once a change has rotated the stamp, a token issued before
/// it for another address no longer works.
pub async fn can_change_email_only_if_email_same(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = user_with_email(&h, &manager).await?;
    let before = EmailState::of(&manager, &user).await?;
    let new_email = format!("{}@en.vec", user_name(&user));
    let other_email = "should@fail.com";
    let token = manager.generate_change_email_token(&user, &new_email).await?;
    let other_token = manager.generate_change_email_token(&user, other_email).await?;
    assert_succeeded(&manager.change_email(&mut user, &new_email, &token).await?);
    before.assert_changed_to(&manager, &user, &new_email).await?;
    let after = EmailState::of(&manager, &user).await?;
    assert_failure(
        &manager.change_email(&mut user, other_email, &other_token).await?,
        &manager.describer().invalid_token(),
    );
    after.assert_is(&manager, &user).await
}

/// `CanChangeEmailWithDifferentTokenProvider`: an email provider registered as "NewProvider2"
/// and named as the change-email provider.
pub async fn can_change_email_with_different_token_provider(h: Harness) -> CaseResult {
    let mut options = Harness::test_options();
    options.tokens.change_email_token_provider = "NewProvider2".to_owned();
    let manager =
        h.user_manager_builder_with(options).token_provider("NewProvider2", Arc::new(EmailTokenProvider)).build();
    change_email_succeeds(&h, &manager).await
}

/// `ChangeEmailTokensFailsAfterEmailChanged`.
pub async fn change_email_tokens_fails_after_email_changed(h: Harness) -> CaseResult {
    let manager = h.user_manager();
    let mut user = user_with_email(&h, &manager).await?;
    let stamp = manager.get_security_stamp(&user).await?;
    let new_email = format!("{}@en.vec", user_name(&user));
    let token = manager.generate_change_email_token(&user, &new_email).await?;
    let another = format!("another{}@email.com", uuid::Uuid::new_v4());
    assert_succeeded(&manager.set_email(&mut user, Some(&another)).await?);
    let after_set = EmailState::of(&manager, &user).await?;
    assert_eq!(after_set.email.as_deref(), Some(another.as_str()));
    assert!(!after_set.confirmed);
    assert_ne!(after_set.stamp, stamp);
    assert_failure(&manager.change_email(&mut user, &new_email, &token).await?, &manager.describer().invalid_token());
    after_set.assert_is(&manager, &user).await
}

/// `ChangeEmailFailsWithWrongToken`.
pub async fn change_email_fails_with_wrong_token(h: Harness) -> CaseResult {
    change_email_fails(&h, "whatevah@foo.boop", BadToken::Literal("bogus")).await
}

/// `ChangeEmailFailsWithEmail`: a token issued for one address does not change to another.
pub async fn change_email_fails_with_email(h: Harness) -> CaseResult {
    change_email_fails(&h, "oops@foo.boop", BadToken::IssuedFor("forgot@alrea.dy")).await
}
