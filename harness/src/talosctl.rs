//! TODO(owner): talosctl
