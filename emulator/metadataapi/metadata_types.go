package metadataapi

import "github.com/dynlocal/dynlocal/fixtures"

// This file lists the properties of the metadata types, for $select and $filter checks and for
// cutting an AttributeMetadata document down to what its declared type shows. Names are
// Dataverse's; a document may carry more (an export from a tenant), and properties a type declares
// but a document lacks read as null.

func metaSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// entityMetadataProps are the structural properties of EntityMetadata.
var entityMetadataProps = metaSet(
	"MetadataId", "HasChanged", "ActivityTypeMask", "AutoCreateAccessTeams", "AutoRouteToOwnerQueue",
	"CanBeInCustomEntityAssociation", "CanBeInManyToMany", "CanBePrimaryEntityInRelationship",
	"CanBeRelatedEntityInRelationship", "CanChangeHierarchicalRelationship", "CanChangeTrackingBeEnabled",
	"CanCreateAttributes", "CanCreateCharts", "CanCreateForms", "CanCreateViews",
	"CanEnableSyncToExternalSearchIndex", "CanModifyAdditionalSettings", "CanTriggerWorkflow",
	"ChangeTrackingEnabled", "CollectionSchemaName", "CreatedOn", "DataProviderId", "DataSourceId",
	"DaysSinceRecordLastModified", "Description", "DisplayCollectionName", "DisplayName",
	"EnforceStateTransitions", "EntityColor", "EntityHelpUrl", "EntityHelpUrlEnabled", "EntitySetName",
	"ExternalCollectionName", "ExternalName", "HasActivities", "HasEmailAddresses", "HasFeedback", "HasNotes",
	"IconLargeName", "IconMediumName", "IconSmallName", "IconVectorName", "IntroducedVersion", "IsActivity",
	"IsActivityParty", "IsAIRUpdated", "IsArchivalEnabled", "IsAuditEnabled", "IsAvailableOffline", "IsBPFEntity",
	"IsBusinessProcessEnabled", "IsChildEntity", "IsConnectionsEnabled", "IsCustomEntity", "IsCustomizable",
	"IsDocumentManagementEnabled", "IsDocumentRecommendationsEnabled", "IsDuplicateDetectionEnabled",
	"IsEnabledForCharts", "IsEnabledForExternalChannels", "IsEnabledForTrace", "IsImportable",
	"IsInteractionCentricEnabled", "IsIntersect", "IsKnowledgeManagementEnabled", "IsLogicalEntity",
	"IsMailMergeEnabled", "IsManaged", "IsMappable", "IsMSTeamsIntegrationEnabled", "IsOfflineInMobileClient",
	"IsOneNoteIntegrationEnabled", "IsOptimisticConcurrencyEnabled", "IsPrivate", "IsQuickCreateEnabled",
	"IsReadingPaneEnabled", "IsReadOnlyInMobileClient", "IsRenameable", "IsRetentionEnabled",
	"IsRetrieveAuditEnabled", "IsRetrieveMultipleAuditEnabled", "IsSLAEnabled", "IsSolutionAware",
	"IsStateModelAware", "IsValidForAdvancedFind", "IsValidForQueue", "IsVisibleInMobile",
	"IsVisibleInMobileClient", "LogicalCollectionName", "LogicalName", "MobileOfflineFilters", "ModifiedOn",
	"ObjectTypeCode", "OwnershipType", "PrimaryIdAttribute", "PrimaryImageAttribute", "PrimaryNameAttribute",
	"Privileges", "RecurrenceBaseEntityLogicalName", "ReportViewName", "SchemaName", "Settings",
	"SyncToExternalSearchIndex", "TableType", "UsesBusinessDataLabelTable",
)

// attributeMetadataProps are the properties every AttributeMetadata has, whatever its type.
var attributeMetadataProps = metaSet(
	"MetadataId", "HasChanged", "AttributeOf", "AttributeType", "AttributeTypeName", "AutoNumberFormat",
	"CanBeSecuredForCreate", "CanBeSecuredForRead", "CanBeSecuredForUpdate", "CanModifyAdditionalSettings",
	"ColumnNumber", "CreatedOn", "DeprecatedVersion", "Description", "DisplayName", "EntityLogicalName",
	"ExternalName", "InheritsFrom", "IntroducedVersion", "IsAuditEnabled", "IsCustomAttribute", "IsCustomizable",
	"IsDataSourceSecret", "IsFilterable", "IsGlobalFilterEnabled", "IsLogical", "IsManaged", "IsPrimaryId",
	"IsPrimaryName", "IsRenameable", "IsRequiredForForm", "IsRetrievable", "IsSearchable", "IsSecured",
	"IsSortableEnabled", "IsValidForAdvancedFind", "IsValidForCreate", "IsValidForForm", "IsValidForGrid",
	"IsValidForRead", "IsValidForUpdate", "IsValidODataAttribute", "LinkedAttributeId", "LogicalName",
	"ModifiedOn", "RequiredLevel", "SchemaName", "Settings", "SourceType",
)

// enumProps are declared by EnumAttributeMetadata for all its derived types.
var enumProps = []string{"DefaultFormValue"}

// attributeTypeProps are the properties each attribute metadata type adds to AttributeMetadata.
var attributeTypeProps = map[string]map[string]bool{
	"AttributeMetadata":                    metaSet(),
	"StringAttributeMetadata":              metaSet("Format", "FormatName", "ImeMode", "MaxLength", "YomiOf", "IsLocalizable", "DatabaseLength", "FormulaDefinition", "SourceTypeMask"),
	"MemoAttributeMetadata":                metaSet("Format", "FormatName", "ImeMode", "MaxLength", "IsLocalizable"),
	"IntegerAttributeMetadata":             metaSet("Format", "MaxValue", "MinValue", "FormulaDefinition", "SourceTypeMask"),
	"BigIntAttributeMetadata":              metaSet("MaxValue", "MinValue"),
	"DecimalAttributeMetadata":             metaSet("MaxValue", "MinValue", "Precision", "ImeMode", "FormulaDefinition", "SourceTypeMask"),
	"DoubleAttributeMetadata":              metaSet("MaxValue", "MinValue", "Precision", "ImeMode"),
	"MoneyAttributeMetadata":               metaSet("MaxValue", "MinValue", "Precision", "PrecisionSource", "ImeMode", "CalculationOf", "FormulaDefinition", "SourceTypeMask", "IsBaseCurrency"),
	"DateTimeAttributeMetadata":            metaSet("Format", "ImeMode", "MinSupportedValue", "MaxSupportedValue", "DateTimeBehavior", "CanChangeDateTimeBehavior", "FormulaDefinition", "SourceTypeMask"),
	"BooleanAttributeMetadata":             metaSet("DefaultValue", "FormulaDefinition", "SourceTypeMask"),
	"EnumAttributeMetadata":                metaSet(enumProps...),
	"PicklistAttributeMetadata":            metaSet(append([]string{"FormulaDefinition", "SourceTypeMask", "ParentPicklistLogicalName", "ChildPicklistLogicalNames"}, enumProps...)...),
	"MultiSelectPicklistAttributeMetadata": metaSet(append([]string{"FormulaDefinition", "SourceTypeMask", "ParentPicklistLogicalName", "ChildPicklistLogicalNames"}, enumProps...)...),
	"StateAttributeMetadata":               metaSet(enumProps...),
	"StatusAttributeMetadata":              metaSet(enumProps...),
	"EntityNameAttributeMetadata":          metaSet(append([]string{"IsEntityReferenceStored"}, enumProps...)...),
	"LookupAttributeMetadata":              metaSet("Targets", "Format"),
	"UniqueIdentifierAttributeMetadata":    metaSet(),
	"ImageAttributeMetadata":               metaSet("IsPrimaryImage", "MaxHeight", "MaxWidth", "MaxSizeInKB", "CanStoreFullImage"),
	"FileAttributeMetadata":                metaSet("MaxSizeInKB"),
	"ManagedPropertyAttributeMetadata":     metaSet("ManagedPropertyLogicalName", "ParentComponentType", "ParentAttributeName", "ValueAttributeTypeCode"),
}

// optionSetNavs are the navigation properties of choice and yes/no columns: they appear only when
// expanded.
var optionSetNavs = metaSet("OptionSet", "GlobalOptionSet")

// hasOptionSetNavs reports whether an attribute metadata type has OptionSet and GlobalOptionSet.
func hasOptionSetNavs(typ string) bool {
	if typ == "BooleanAttributeMetadata" {
		return true
	}
	base, _ := fixtures.AttributeBaseType(typ)
	return base == "EnumAttributeMetadata"
}

// derivesFrom reports whether the attribute metadata type typ (without namespace) is base or derives from it.
func derivesFrom(typ, base string) bool {
	for t := typ; t != ""; {
		if t == base {
			return true
		}
		t, _ = fixtures.AttributeBaseType(t)
	}
	return false
}

// attributeHas reports whether the attribute metadata type typ has the property name.
func attributeHas(typ, name string) bool {
	if attributeMetadataProps[name] {
		return true
	}
	for t := typ; t != ""; {
		if attributeTypeProps[t][name] {
			return true
		}
		t, _ = fixtures.AttributeBaseType(t)
	}
	return false
}

// relationshipBaseProps are the properties of RelationshipMetadataBase.
var relationshipBaseProps = metaSet(
	"MetadataId", "HasChanged", "IntroducedVersion", "IsCustomizable", "IsCustomRelationship", "IsManaged",
	"IsValidForAdvancedFind", "RelationshipBehavior", "RelationshipType", "SchemaName", "SecurityTypes",
)

// relationshipProps are the properties each relationship metadata type adds.
var relationshipProps = map[string]map[string]bool{
	"RelationshipMetadataBase": metaSet(),
	"OneToManyRelationshipMetadata": metaSet("AssociatedMenuConfiguration", "CascadeConfiguration", "DenormalizedAttributeName",
		"EntityKey", "IsDenormalizedLookup", "IsHierarchical", "ReferencedAttribute", "ReferencedEntity",
		"ReferencedEntityNavigationPropertyName", "ReferencingAttribute", "ReferencingEntity",
		"ReferencingEntityNavigationPropertyName", "RelationshipAttributes"),
	"ManyToManyRelationshipMetadata": metaSet("Entity1AssociatedMenuConfiguration", "Entity1IntersectAttribute",
		"Entity1LogicalName", "Entity1NavigationPropertyName", "Entity2AssociatedMenuConfiguration",
		"Entity2IntersectAttribute", "Entity2LogicalName", "Entity2NavigationPropertyName", "IntersectEntityName"),
}

// relationshipHas reports whether a relationship metadata type has a property. The base type
// accepts the properties of both derived types, so that $select and $filter over
// RelationshipDefinitions without a cast can name ReferencedEntity or Entity1LogicalName.
func relationshipHas(typ, name string) bool {
	if relationshipBaseProps[name] || relationshipProps[typ][name] {
		return true
	}
	if typ == "RelationshipMetadataBase" {
		return relationshipProps["OneToManyRelationshipMetadata"][name] || relationshipProps["ManyToManyRelationshipMetadata"][name]
	}
	return false
}

// keyProps are the properties of EntityKeyMetadata.
var keyProps = metaSet("MetadataId", "HasChanged", "AsyncJob", "DisplayName", "EntityKeyIndexStatus", "EntityLogicalName",
	"IntroducedVersion", "IsCustomizable", "IsExportKey", "IsManaged", "IsSecondaryKey", "IsSynchronous",
	"KeyAttributes", "LogicalName", "SchemaName")

// optionSetProps are the properties of OptionSetMetadata (and its base).
var optionSetProps = metaSet("MetadataId", "HasChanged", "Description", "DisplayName", "ExternalTypeName", "IntroducedVersion",
	"IsCustomizable", "IsCustomOptionSet", "IsGlobal", "IsManaged", "Name", "OptionSetType", "Options",
	"ParentOptionSetName", "TrueOption", "FalseOption")
