//! Which request goes on the bus next: a fixed-capacity priority queue (no heap). An unlock
//! goes before queued polls; within one priority, first come first served; a job for a board
//! that cannot be served now (backing off, post-setting wait) does not hold up the others.
//!
//! ```
//! use lockdrv::master::{Priority, Scheduler};
//!
//! let mut queue = Scheduler::<&str, 8>::new();
//! queue.push(Priority::Poll, 1, "poll 1").unwrap();
//! queue.push(Priority::Poll, 2, "poll 2").unwrap();
//! queue.push(Priority::Unlock, 2, "unlock 2/5").unwrap();
//! // Board 2 is backing off: its unlock waits, board 1's poll goes first.
//! assert_eq!(queue.pop(|board| board != 2), Some((1, "poll 1")));
//! assert_eq!(queue.pop(|_| true), Some((2, "unlock 2/5")));
//! assert_eq!(queue.pop(|_| true), Some((2, "poll 2")));
//! assert_eq!(queue.pop(|_| true), None);
//! ```

/// How urgent a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Background status polling.
    Poll,
    /// A request somebody waits for (status on demand, info, settings).
    Query,
    /// An unlock: a person stands at the locker.
    Unlock,
}

#[derive(Debug, Clone, Copy)]
struct Entry<T> {
    priority: Priority,
    board: u8,
    order: u64,
    job: T,
}

/// A priority queue of up to `N` jobs of type `T`, each for one board.
#[derive(Debug, Clone)]
pub struct Scheduler<T, const N: usize> {
    entries: [Option<Entry<T>>; N],
    next_order: u64,
}

impl<T, const N: usize> Default for Scheduler<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Scheduler<T, N> {
    /// An empty queue.
    pub fn new() -> Self {
        Scheduler { entries: core::array::from_fn(|_| None), next_order: 0 }
    }

    /// Jobs queued.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    /// Whether no job is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `job` for `board`.
    ///
    /// # Errors
    /// The job back when the queue is full.
    pub fn push(&mut self, priority: Priority, board: u8, job: T) -> Result<(), T> {
        let Some(slot) = self.entries.iter_mut().find(|e| e.is_none()) else { return Err(job) };
        *slot = Some(Entry { priority, board, order: self.next_order, job });
        self.next_order += 1;
        Ok(())
    }

    /// Takes the most urgent job (oldest first within a priority) whose board `ready` accepts.
    pub fn pop(&mut self, mut ready: impl FnMut(u8) -> bool) -> Option<(u8, T)> {
        let mut best: Option<(usize, Priority, u64)> = None;
        for (index, entry) in self.entries.iter().enumerate() {
            let Some(entry) = entry else { continue };
            let better = match best {
                None => true,
                Some((_, priority, order)) => {
                    entry.priority > priority || (entry.priority == priority && entry.order < order)
                }
            };
            if better && ready(entry.board) {
                best = Some((index, entry.priority, entry.order));
            }
        }
        let (index, _, _) = best?;
        let entry = self.entries.get_mut(index)?.take()?;
        Some((entry.board, entry.job))
    }
}
