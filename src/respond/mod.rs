//! Responses: render templates into complete mails, queue them in the outbox, and
//! hand due mail to the transport with retries.

pub mod ack;
pub mod bulletin;
pub mod compose;
pub mod control;
pub mod deliver;
pub mod templates;

pub mod held;
pub mod leak;
pub mod progress;
pub mod protect;
pub mod queue;
pub mod shape;
pub mod strip;
pub mod team;

pub use compose::{
    ComposeError, Outgoing, Unreadable, acknowledgement, new_message_id, reply_subject,
    undecryptable_acknowledgement,
};
pub use deliver::{DELIVERY_FAILED, DeliveryRun, SENDS_UNRECORDED, Sender, backoff, deliver_due};
pub use templates::{TemplateError, Templates};
