//! Reading a folder on the configured IMAP server, read-only: the folder is
//! opened with EXAMINE and fetched with `BODY.PEEK[]`, so no message is
//! flagged, moved or marked seen. Messages come in UID order, in chunks, with
//! their INTERNALDATE as the delivery time; one above `[limits]
//! max_message_size` is fetched as its header block only, as the daemon does.

use std::collections::VecDeque;

use tokio::runtime::Runtime;

use super::{Failure, Item};
use crate::config::ImapConfig;
use crate::source::imap::{Connection, ImapError, ImapSource};

/// Messages fetched per round trip.
const CHUNK: usize = 50;

/// The messages of one IMAP folder.
pub struct ImapReader<'r> {
    runtime: &'r Runtime,
    connection: Option<Connection>,
    /// UIDs not fetched yet, with their sizes.
    pending: VecDeque<(u32, u32)>,
    fetched: VecDeque<Item>,
    max_size: u64,
    name: String,
}

impl std::fmt::Debug for ImapReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapReader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'r> ImapReader<'r> {
    /// Connects with the `[source]` settings and examines `folder`.
    pub fn open(
        runtime: &'r Runtime,
        config: &ImapConfig,
        folder: &str,
        max_size: u64,
    ) -> Result<Self, ImapError> {
        let source = ImapSource::new(ImapConfig {
            mailbox: folder.to_owned(),
            processed_mailbox: None,
            ..config.clone()
        })?;
        let name = format!("{}/{folder}", source.source_name());
        let (connection, listed) = runtime.block_on(async {
            let mut connection = source.connect().await?;
            connection.examine().await?;
            let listed = connection.list_after(0).await?;
            Ok::<_, ImapError>((connection, listed))
        })?;
        Ok(Self {
            runtime,
            connection: Some(connection),
            pending: listed.into(),
            fetched: VecDeque::new(),
            max_size,
            name,
        })
    }

    /// The store's name for the folder, e.g. `imap://user@host:993/Archive`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many messages the folder holds.
    pub fn len(&self) -> usize {
        self.pending.len() + self.fetched.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Logs out.
    pub fn close(mut self) {
        if let Some(c) = self.connection.take() {
            self.runtime.block_on(c.logout());
        }
    }

    fn fetch_more(&mut self) -> Result<(), Failure> {
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        let n = self.pending.len().min(CHUNK);
        let chunk: Vec<(u32, u32)> = self.pending.drain(..n).collect();
        let max = self.max_size;
        let (small, large): (Vec<_>, Vec<_>) =
            chunk.iter().partition(|(_, size)| u64::from(*size) <= max);
        let small: Vec<u32> = small.into_iter().map(|(uid, _)| uid).collect();
        let result = self.runtime.block_on(async {
            let whole = connection.fetch_dated(&small).await?;
            let heads = connection.fetch_heads(&large).await?;
            Ok::<_, ImapError>((whole, heads))
        });
        match result {
            Ok((whole, heads)) => {
                let whole = whole.into_iter().map(|(incoming, delivered)| Item {
                    location: incoming.location,
                    raw: incoming.raw,
                    delivered,
                    file: None,
                });
                let heads = heads.into_iter().map(|incoming| Item {
                    location: incoming.location,
                    raw: incoming.raw,
                    delivered: None,
                    file: None,
                });
                self.fetched.extend(whole.chain(heads));
                Ok(())
            }
            Err(err) => {
                // A broken session cannot fetch the rest either.
                self.connection = None;
                let first = chunk.first().map_or(0, |(uid, _)| *uid);
                let left = chunk.len() + self.pending.len();
                self.pending.clear();
                Err(Failure {
                    location: format!("{} from UID {first}", self.name),
                    reason: format!("{err}; {left} message(s) not read"),
                })
            }
        }
    }
}

impl Iterator for ImapReader<'_> {
    type Item = Result<Item, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.fetched.is_empty()
            && !self.pending.is_empty()
            && let Err(failure) = self.fetch_more()
        {
            return Some(Err(failure));
        }
        self.fetched.pop_front().map(Ok)
    }
}
