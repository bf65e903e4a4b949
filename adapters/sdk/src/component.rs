//! Glue from the generated `Guest` trait to the user's [`Adapter`].

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::regent::adapter::registry::Guest;
use crate::{
    Adapter, AdapterError, AdapterInfo, DeleteResult, Location, LoginCredentials, RepoMode,
    TagPage, TagRef,
};

thread_local! {
    /// The adapter value for this instance, created on first use. Components
    /// are single-threaded, so a thread-local is the instance's global state.
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Bridges the generated bindings to `A`; named only by `register_adapter!`.
pub struct Component<A>(PhantomData<A>);

fn with_adapter<A: Adapter, R>(f: impl FnOnce(&A) -> R) -> R {
    INSTANCE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let value = slot.get_or_insert_with(|| Box::new(A::default()));
        match value.downcast_ref::<A>() {
            Some(adapter) => f(adapter),
            None => unreachable!("one adapter type per component"),
        }
    })
}

impl<A: Adapter> Guest for Component<A> {
    fn info() -> AdapterInfo {
        with_adapter::<A, _>(|a| a.info())
    }

    fn resolve_mode(images_repo: String, requested: RepoMode) -> Result<RepoMode, AdapterError> {
        with_adapter::<A, _>(|a| a.resolve_mode(&images_repo, requested))
    }

    fn list_tags(at: Location, page: Option<String>) -> Result<TagPage, AdapterError> {
        with_adapter::<A, _>(|a| a.list_tags(&at, page))
    }

    fn delete_tags(at: Location, tags: Vec<TagRef>) -> Result<Vec<DeleteResult>, AdapterError> {
        with_adapter::<A, _>(|a| a.delete_tags(&at, tags))
    }

    fn create_repository(at: Location) -> Result<(), AdapterError> {
        with_adapter::<A, _>(|a| a.create_repository(&at))
    }

    fn delete_repository(at: Location) -> Result<(), AdapterError> {
        with_adapter::<A, _>(|a| a.delete_repository(&at))
    }

    fn registry_login(registry: String) -> Result<Option<LoginCredentials>, AdapterError> {
        with_adapter::<A, _>(|a| a.registry_login(&registry))
    }
}
