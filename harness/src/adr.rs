//! TODO(owner): adr
