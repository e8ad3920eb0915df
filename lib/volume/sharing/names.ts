// Where other users' shares appear in a mount. A name no ordinary folder
// takes by accident, and one the Volume refuses to create in the root, so
// that the view never hides an entry of the user's own (docs/volume.md, "Sharing").

export const SHARED_DIR_NAME = '@shared'
