//! `Autocrypt:` headers (Autocrypt Level 1): reading a sender's key, writing ours.
