//! Lab operations as transactions, for every front end: deploy (with rollback),
//! destroy, live changes (apply, delete, scale), repair and which lab a request
//! means. cli/ (and the API server to come) call these and print what they
//! return; nothing here prints.

pub mod deploy;
pub mod destroy;
pub mod live;
pub mod manifests;
pub mod repair;
pub mod select;
