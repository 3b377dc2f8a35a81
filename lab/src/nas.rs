//! TODO(owner): nas
