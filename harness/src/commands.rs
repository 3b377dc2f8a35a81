//! TODO(owner): commands
