//! Argon2 work memory kept per thread. Argon2id fills its whole memory cost (19 MiB by default)
//! for every hash and verification; allocating and freeing that each time made glibc keep the
//! freed buffers in per-thread arenas, and resident memory grew by gigabytes under a password
//! flood. Here each thread keeps one buffer the size of the configured cost and reuses it for
//! every hash, so a hashing thread holds exactly one cost's memory for its life and the
//! allocator sees no churn. A stored hash that asks for more memory than the configured cost
//! (an import, a lowered cost) gets a buffer of its own, freed afterwards. The buffer is zeroed
//! after each use, so that no password's Argon2 state stays readable in memory (a core dump,
//! swap) for the thread's life; that costs a fill of the buffer, a small share of the hash.
//!
//! Reusing a buffer is sound: Argon2 writes every block before it reads it (the first pass
//! computes each block from earlier ones; later passes combine blocks the first pass wrote).

use std::cell::RefCell;

use argon2::{Argon2, Block};

thread_local! {
    /// This thread's Argon2 blocks, grown once to the configured memory cost.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `context` over `password` and `salt` into `output`, in this thread's reused memory when
/// its parameters need at most `reusable_blocks` blocks (the configured cost), else in memory of
/// its own.
pub(super) fn hash_into(
    context: &Argon2<'_>,
    reusable_blocks: usize,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
) -> argon2::Result<()> {
    let needed = context.params().block_count();
    if needed > reusable_blocks {
        return context.hash_password_into(password, salt, output);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < reusable_blocks {
            blocks.resize(reusable_blocks, Block::default());
        }
        let used = &mut blocks[..needed];
        let result = context.hash_password_into_with_memory(password, salt, output, &mut *used);
        used.fill(Block::default());
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{Algorithm, Params, Version};

    /// The reused buffer gives the same output as fresh memory, whatever ran in it before.
    #[test]
    fn reused_memory_gives_the_same_hash_as_fresh_memory() {
        // Two lanes in the larger one, so that references across lanes meet a dirty buffer.
        let small = Params::new(64, 2, 1, None).expect("valid");
        let large = Params::new(128, 3, 2, None).expect("valid");
        let hash = |params: &Params, reusable: usize, password: &[u8]| {
            let context = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let mut output = [0u8; 32];
            hash_into(&context, reusable, password, b"saltsaltsaltsalt", &mut output).expect("hashes");
            output
        };
        let fresh = |params: &Params, password: &[u8]| {
            let context = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let mut output = [0u8; 32];
            context.hash_password_into(password, b"saltsaltsaltsalt", &mut output).expect("hashes");
            output
        };
        for round in 0..3 {
            assert_eq!(hash(&large, large.block_count(), b"first"), fresh(&large, b"first"), "round {round}");
            // A smaller cost in the same (larger, dirty) buffer.
            assert_eq!(hash(&small, large.block_count(), b"second"), fresh(&small, b"second"), "round {round}");
            // More than the reusable size: memory of its own.
            assert_eq!(hash(&large, small.block_count(), b"third"), fresh(&large, b"third"), "round {round}");
        }
        BLOCKS.with_borrow(|blocks| {
            assert_eq!(blocks.len(), large.block_count(), "grown once, never beyond");
            assert!(blocks.iter().all(|block| block.as_ref().iter().all(|word| *word == 0)), "zeroed after use");
        });
    }
}
