//! TODO(owner): lease
