//! Write transactions of the store: a refusal (a stale concurrency stamp, a taken name) rolls
//! the transaction back and comes out as a value, a failure as an error.

use crate::error::{DieselStoreError, StoreResult};

/// Why a write refused to go on: a value the store returns (a stale concurrency stamp, a taken
/// name) after rolling back.
pub(crate) type Refusal = identity_core::IdentityError;

/// The error of a write transaction's body that may refuse: a refusal, or a real failure.
#[derive(Debug)]
pub(crate) enum TxError {
    Refused(Refusal),
    Failed(DieselStoreError),
}

impl From<diesel::result::Error> for TxError {
    fn from(error: diesel::result::Error) -> Self {
        TxError::Failed(error.into())
    }
}

impl TxError {
    /// Separates a refusal (a value) from a failure (an error).
    pub(crate) fn split<T>(outcome: Result<T, TxError>) -> StoreResult<Result<T, Refusal>> {
        match outcome {
            Ok(value) => Ok(Ok(value)),
            Err(TxError::Refused(refusal)) => Ok(Err(refusal)),
            Err(TxError::Failed(failure)) => Err(failure),
        }
    }
}
