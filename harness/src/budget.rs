//! TODO(owner): budget
