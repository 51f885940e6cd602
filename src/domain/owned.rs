//! A collection a user owns (SSH keys, secondary e-mails): listed, read, found and deleted the
//! same way, once. Each kind says which table it is, which column names the owner, which rows
//! belong to it and what a missing one is called; adding is the kind's own (`ssh_keys::add`,
//! `emails::add`), with its own validation.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, PrimaryKeyTrait,
    QueryFilter, QueryOrder, Select,
};

use super::decode::ByIndex;
use super::fields;
use super::owner::{Owner, Target};
use super::page::{Listing, Window};
use super::policy;
use super::shape::Field;
use super::viewer::Viewer;
use crate::error::{AppError, AppResult};

/// A kind of record a user owns.
pub trait Owned: EntityTrait<PrimaryKey: PrimaryKeyTrait<ValueType = i32>> {
    /// `404 <name> Not Found`.
    const NOT_FOUND: &'static str;
    /// Its fields, as both fronts show them.
    const FIELDS: &'static [Field<Self::Model>];
    /// The column that names the owner.
    fn owner_column() -> Self::Column;
    /// The id column.
    fn id_column() -> Self::Column;
    /// The owner of a record.
    fn owner_of(m: &Self::Model) -> i32;
    /// The rows of the table that are records of this kind.
    fn all() -> Select<Self> {
        Self::find()
    }
    /// Whether anyone may read a user's records (GitLab's GPG keys), not only the user and
    /// admins.
    const PUBLIC: bool = false;
    /// Whether deleting one's own record that is not there is a 404 (GitLab's later collections:
    /// GPG keys) rather than nothing to do (9.x's keys and e-mails).
    const MISSING_OWN_NOT_FOUND: bool = false;
    /// What else a deletion of `m` changes on its user (run just before it).
    fn on_delete(_m: &Self::Model) -> Vec<sea_orm::UpdateMany<entity::user::Entity>> {
        Vec::new()
    }
}

impl Owned for entity::ssh_key::Entity {
    const NOT_FOUND: &'static str = "Key";
    const FIELDS: &'static [Field<entity::ssh_key::Model>] = fields::SSH_KEY;
    fn owner_column() -> Self::Column {
        entity::ssh_key::Column::UserId
    }
    fn id_column() -> Self::Column {
        entity::ssh_key::Column::Id
    }
    fn owner_of(m: &Self::Model) -> i32 {
        m.user_id
    }
}

impl Owned for entity::gpg_key::Entity {
    const NOT_FOUND: &'static str = "GPG Key";
    const FIELDS: &'static [Field<entity::gpg_key::Model>] = fields::GPG_KEY;
    const PUBLIC: bool = true;
    const MISSING_OWN_NOT_FOUND: bool = true;
    fn owner_column() -> Self::Column {
        entity::gpg_key::Column::UserId
    }
    fn id_column() -> Self::Column {
        entity::gpg_key::Column::Id
    }
    fn owner_of(m: &Self::Model) -> i32 {
        m.user_id
    }
}

impl Owned for entity::email::Entity {
    const NOT_FOUND: &'static str = "Email";
    const FIELDS: &'static [Field<entity::email::Model>] = fields::EMAIL;
    fn owner_column() -> Self::Column {
        entity::email::Column::UserId
    }
    fn id_column() -> Self::Column {
        entity::email::Column::Id
    }
    /// A removed address stops being the user's public or commit one.
    fn on_delete(m: &Self::Model) -> Vec<sea_orm::UpdateMany<entity::user::Entity>> {
        use entity::user;
        use sea_orm::sea_query::Expr;
        [user::Column::PublicEmail, user::Column::CommitEmail]
            .into_iter()
            .map(|col| {
                user::Entity::update_many()
                    .col_expr(col, Expr::value(Option::<String>::None))
                    .filter(user::Column::Id.eq(m.user_id))
                    .filter(col.eq(m.email_canonical.as_str()))
            })
            .collect()
    }
    fn owner_of(m: &Self::Model) -> i32 {
        m.user_id
    }
    /// The primary address is a row of `emails` too, but not a secondary one.
    fn all() -> Select<Self> {
        Self::find().filter(entity::email::Column::IsPrimary.eq(false))
    }
}

/// Whose records of kind `E` the viewer reads: those of [`Owner::resolve`], or, for a kind anyone
/// may read, any user's (404 when there is none), signed in or not.
pub async fn readable<E: Owned>(db: &impl ConnectionTrait, viewer: &Viewer, target: &Target) -> AppResult<Owner> {
    match (E::PUBLIC, target) {
        (true, Target::User(r)) => Ok(Owner::checked(super::users::find(db, r).await?.id)),
        _ => Owner::resolve(db, viewer, target).await,
    }
}

/// The records of one owner, oldest first.
pub struct OfOwner<E> {
    owner: Owner,
    kind: std::marker::PhantomData<fn() -> E>,
}

/// The records of an owner the viewer may read ([`Owner::resolve`] checked it).
pub fn of_owner<E: Owned>(owner: Owner) -> OfOwner<E> {
    OfOwner {
        owner,
        kind: std::marker::PhantomData,
    }
}

impl<E> Listing for OfOwner<E>
where
    E: Owned,
    E::Model: FromQueryResult + Send + Sync,
    ByIndex<E::Model>: FromQueryResult + Send + Sync,
{
    type Item = E::Model;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        super::page::count(db, E::all().filter(E::owner_column().eq(self.owner.id())), up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, window: Window) -> AppResult<Vec<E::Model>> {
        let q = E::all()
            .filter(E::owner_column().eq(self.owner.id()))
            .order_by_asc(E::id_column());
        Ok(super::decode::window(db, q, window.offset, window.limit).await?)
    }
}

/// The records of several users, by id, for loaders (authorization is the caller's).
pub async fn of_users<E>(db: &impl ConnectionTrait, user_ids: &[i32]) -> Result<Vec<E::Model>, DbErr>
where
    E: Owned,
    ByIndex<E::Model>: FromQueryResult + Send + Sync,
{
    let q = E::all()
        .filter(super::any_of(db, E::owner_column(), user_ids))
        .order_by_asc(E::id_column());
    super::decode::all(db, q).await
}

/// One record of an authorized owner; `404 <kind> Not Found` when it is someone else's or missing.
pub async fn get<E>(db: &impl ConnectionTrait, owner: &Owner, id: i32) -> AppResult<E::Model>
where
    E: Owned,
    ByIndex<E::Model>: FromQueryResult + Send + Sync,
{
    let q = E::all()
        .filter(E::id_column().eq(id))
        .filter(E::owner_column().eq(owner.id()));
    super::decode::unique(db, q)
        .await?
        .ok_or(AppError::NotFound(E::NOT_FOUND))
}

/// One record by id, for its owner or an admin; anyone else gets the same 404 as for a missing
/// one.
pub async fn find<E>(db: &impl ConnectionTrait, viewer: &Viewer, id: i32) -> AppResult<E::Model>
where
    E: Owned,
    ByIndex<E::Model>: FromQueryResult + Send + Sync,
{
    viewer.user()?;
    let m = super::decode::unique(db, E::all().filter(E::id_column().eq(id)))
        .await?
        .ok_or(AppError::NotFound(E::NOT_FOUND))?;
    if !policy::can_read_private(viewer, E::owner_of(&m)) {
        return Err(AppError::NotFound(E::NOT_FOUND));
    }
    Ok(m)
}

/// Deletes a record. For the viewer's own it is idempotent (`None` when already gone or not
/// theirs) unless the kind says a missing one is a 404; for an admin acting on a given user, a
/// missing user or record is a 404.
pub async fn delete<E>(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target: &Target,
    id: i32,
) -> AppResult<Option<E::Model>>
where
    E: Owned,
    ByIndex<E::Model>: FromQueryResult + Send + Sync,
{
    let owner = Owner::resolve(db, viewer, target).await?;
    let found = super::decode::unique(
        db,
        E::all()
            .filter(E::id_column().eq(id))
            .filter(E::owner_column().eq(owner.id())),
    )
    .await?;
    let Some(m) = found else {
        return match target {
            Target::Me if !E::MISSING_OWN_NOT_FOUND => Ok(None),
            _ => Err(AppError::NotFound(E::NOT_FOUND)),
        };
    };
    // First the user's reference to it: should the deletion then fail, the user only lost a
    // setting, and never points at a record that is gone.
    for update in E::on_delete(&m) {
        update.exec(db).await?;
    }
    let res = E::delete_many().filter(E::id_column().eq(id)).exec(db).await?;
    Ok((res.rows_affected > 0).then_some(m))
}
