//! TODO(owner): cycle
