//! TODO(owner): promote
