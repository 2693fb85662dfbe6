//! Spreading pure work over the machine's cores: the one parallel map that the index and
//! rule evaluation use.

/// Most threads one map starts.
const MAX_THREADS: usize = 8;

/// `work` applied to consecutive parts of `items`, one result per part, in order. The work is
/// spread over the machine's cores only when each thread gets at least `per_thread` items;
/// otherwise it runs on the caller's thread as one part. A panic in a part is passed on.
pub fn map_parts<T: Sync, R: Send>(items: &[T], per_thread: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(MAX_THREADS).min(items.len() / per_thread.max(1));
    if threads <= 1 {
        return vec![work(items)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            items.chunks(items.len().div_ceil(threads)).map(|part| scope.spawn(move || work(part))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_every_item_in_order() {
        let items: Vec<u32> = (0..10_000).collect();
        for per_thread in [1, 100, 5_000, 20_000] {
            let parts = map_parts(&items, per_thread, <[u32]>::to_vec);
            assert_eq!(parts.concat(), items, "per_thread {per_thread}");
        }
        assert_eq!(map_parts(&items, 20_000, |p| p.len()), vec![10_000], "too few items for two threads: one part");
    }

    #[test]
    fn an_empty_slice_is_one_empty_part() {
        assert_eq!(map_parts(&[] as &[u8], 10, |p| p.len()), vec![0]);
    }
}
