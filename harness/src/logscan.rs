//! TODO(owner): logscan
