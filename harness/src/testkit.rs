//! TODO(owner): testkit
