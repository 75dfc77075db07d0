package metadataapi

import (
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// fileCompanions names the columns that come with a File column (<name>_name) or an Image column
// (<name>id, <name>_timestamp, <name>_url), which go with it.
func fileCompanions(a *model.Attribute) []string {
	switch a.TypeName {
	case "FileType":
		return []string{a.LogicalName + "_name"}
	case "ImageType":
		return []string{a.LogicalName + "id", a.LogicalName + "_timestamp", a.LogicalName + "_url"}
	}
	return nil
}

// deleteFileColumn removes what a File or Image column brings along, before the column itself
// goes: its files and its companion columns.
func deleteFileColumn(tx *store.Tx, e *model.Entity, a *model.Attribute) error {
	names := fileCompanions(a)
	if names == nil {
		return nil
	}
	if err := tx.DeleteAttributeFiles(e.LogicalName, a.LogicalName); err != nil {
		return err
	}
	for _, n := range names {
		if c, ok := e.Attribute(n); ok && c.IsCustom {
			if err := tx.DeleteAttribute(e.LogicalName, n); err != nil {
				return err
			}
		}
	}
	return nil
}
