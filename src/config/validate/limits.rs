//! `[limits]`: sizes, depths and the rate and flood limits, each checked.

use super::Validator;
use crate::config::raw;
use crate::config::types::Limits;

impl Validator<'_> {
    pub(super) fn limits(&mut self, raw: raw::RawLimits) -> Limits {
        let d = Limits::default();
        let limits = Limits {
            max_message_size: self.size(
                "limits.max_message_size",
                raw.max_message_size,
                d.max_message_size,
            ),
            max_header_size: self.size(
                "limits.max_header_size",
                raw.max_header_size,
                d.max_header_size,
            ),
            max_mime_depth: raw.max_mime_depth.unwrap_or(d.max_mime_depth),
            max_attachments: raw.max_attachments.unwrap_or(d.max_attachments),
            auto_replies_per_sender: raw
                .auto_replies_per_sender
                .unwrap_or(d.auto_replies_per_sender),
            auto_reply_window: self.interval(
                "limits.auto_reply_window",
                raw.auto_reply_window.as_deref(),
                d.auto_reply_window,
            ),
            auto_replies_total: raw.auto_replies_total.unwrap_or(d.auto_replies_total),
            team_notices_per_sender: raw
                .team_notices_per_sender
                .unwrap_or(d.team_notices_per_sender),
            team_notices_total: raw.team_notices_total.unwrap_or(d.team_notices_total),
            notice_window: self.interval(
                "limits.notice_window",
                raw.notice_window.as_deref(),
                d.notice_window,
            ),
            max_decompressed_size: self.size(
                "limits.max_decompressed_size",
                raw.max_decompressed_size,
                d.max_decompressed_size,
            ),
            max_openpgp_depth: raw.max_openpgp_depth.unwrap_or(d.max_openpgp_depth),
            max_openpgp_recipients: raw
                .max_openpgp_recipients
                .unwrap_or(d.max_openpgp_recipients),
            max_mailed_attachment_size: self.size(
                "limits.max_mailed_attachment_size",
                raw.max_mailed_attachment_size,
                d.max_mailed_attachment_size,
            ),
            max_report_attachment_bytes: self.size(
                "limits.max_report_attachment_bytes",
                raw.max_report_attachment_bytes,
                d.max_report_attachment_bytes,
            ),
            max_sender_bytes_per_day: self.size(
                "limits.max_sender_bytes_per_day",
                raw.max_sender_bytes_per_day,
                d.max_sender_bytes_per_day,
            ),
        };
        if limits.max_mime_depth == 0 {
            self.problem("limits.max_mime_depth", "must be at least 1");
        }
        for (key, value) in [
            ("limits.auto_replies_total", limits.auto_replies_total),
            (
                "limits.team_notices_per_sender",
                limits.team_notices_per_sender,
            ),
            ("limits.team_notices_total", limits.team_notices_total),
        ] {
            if value == 0 {
                self.problem(key, "must be at least 1");
            }
        }
        if limits.max_openpgp_depth == 0 {
            self.problem("limits.max_openpgp_depth", "must be at least 1");
        }
        if limits.max_openpgp_recipients == 0 {
            self.problem("limits.max_openpgp_recipients", "must be at least 1");
        }
        limits
    }
}
