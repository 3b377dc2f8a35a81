//! TODO(owner): terraform
