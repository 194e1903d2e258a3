# Sets up a Redmine instance for govhall end-to-end tests.
#
# Run from the Redmine root (Debian: /usr/share/redmine):
#   RAILS_ENV=production bin/rails runner /path/to/adapters/redmine_setup.rb
#
# Idempotent: every object is found by name (or login/identifier) and only
# created or completed when missing. The last line printed to stdout is one
# JSON object:
#   {"url": ..., "api_key": ..., "project_id": ..., "project_identifier": "govhall",
#    "trackers": {name: id}, "statuses": {name: id},
#    "custom_fields": {name: id}, "users": {login: id},
#    "user_api_keys": {login: key}, "redmine_version": ...}
#
# Environment:
#   GOVHALL_TAGS             comma-separated possible values of `govhall_tags`
#                            (default: the built-in list below)
#   GOVHALL_STAFF_PASSWORD   password of the staff users (default govhall-staff)
#   GOVHALL_REDMINE_URL      copied into the JSON as "url" (.ci/redmine.sh sets it)
require 'json'

PROJECT_IDENTIFIER = 'govhall'
PROJECT_NAME = 'Govhall demo'

# name => is_closed, in display order
STATUSES = [
  ['New', false], ['Open', false], ['Pending', false], ['Accepted', false],
  ['Resolved', true], ['Closed', true], ['Rejected', true]
]

TRACKERS = %w[Consultation Application Complaint Supervision Assignment]

RULE_CODES = %w[
  otn.notice_due_soon otn.notice_overdue otn.notice_incomplete
  otn.repeated_notice otn.written_notice_missing otn.rejection_basis_missing
  otn.deferred_reply_overdue otn.deferral_contact_missing otn.answer_incomplete
  tl.due_soon tl.overdue tl.supervision_overdue tl.deadline_missing
  tl.rejection_notice_missing tl.non_registration_notice_missing
  tl.extension_unapproved tl.result_not_reported
  fr.first_reply_due_soon fr.first_reply_overdue fr.transfer_overdue
  fr.referral_incomplete fr.shirking fr.not_notified fr.forbidden_phrase
  fr.acceptance_notice_missing fr.lead_department_undetermined
  fr.co_department_not_urged
  ps.special_group ps.special_group_not_offered ps.fee_charged
  ps.handover_missing ps.ledger_incomplete ps.evaluation_missing
  ps.poor_evaluation ps.return_visit_overdue ps.stale ps.spot_check
]

DEFAULT_TAGS = %w[govhall_sla_green govhall_sla_yellow govhall_sla_red] +
               RULE_CODES.map { |c| 'govhall_' + c.tr('.', '_') }

TAGS =
  if ENV['GOVHALL_TAGS'].to_s.strip != ''
    ENV['GOVHALL_TAGS'].split(',').map(&:strip).reject(&:empty?).uniq
  else
    DEFAULT_TAGS
  end

# name => [format, options]
CUSTOM_FIELDS = [
  # input fields
  ['Channel', 'list', {possible_values: %w[counter phone web mail letter hotline]}],
  ['Department', 'string', {}],
  ['Lead department', 'string', {}],
  ['Co-departments', 'string', {}],
  ['Applicant name', 'string', {}],
  ['Applicant phone', 'string', {}],
  ['Applicant ID', 'string', {}],
  ['Applicant birth date', 'date', {}],
  ['Applicant groups', 'list', {multiple: true, possible_values: %w[elderly disabled pregnant sick weak]}],
  ['Required materials', 'text', {}],
  ['Promised working days', 'int', {}],
  # output fields
  ['govhall_light', 'string', {}],
  ['govhall_due_at', 'string', {}],
  ['govhall_first_inquiry', 'string', {}],
  ['govhall_first_handler', 'string', {}],
  ['govhall_escalation_level', 'string', {}],
  ['govhall_tags', 'list', {multiple: true, possible_values: TAGS}]
]

STAFF = [
  ['wang', 'Wei', 'Wang'],
  ['li', 'Na', 'Li'],
  ['zhao', 'Lei', 'Zhao']
]
STAFF_PASSWORD = ENV['GOVHALL_STAFF_PASSWORD'].to_s != '' ? ENV['GOVHALL_STAFF_PASSWORD'] : 'govhall-staff'

STAFF_PERMISSIONS = %i[
  view_issues add_issues edit_issues add_issue_notes
  view_private_notes set_notes_private edit_own_issue_notes
  view_issue_watchers add_issue_watchers
]

ActiveRecord::Base.transaction do
  # --- settings ------------------------------------------------------------
  Setting.rest_api_enabled = '1' unless Setting.rest_api_enabled?
  Setting.default_language = 'en' if Setting.default_language.blank?

  # --- statuses ------------------------------------------------------------
  statuses = {}
  STATUSES.each do |name, closed|
    s = IssueStatus.find_by(name: name) || IssueStatus.new(name: name)
    s.is_closed = closed
    s.save! if s.new_record? || s.changed?
    statuses[name] = s
  end
  default_status = statuses['New']

  # --- trackers ------------------------------------------------------------
  trackers = {}
  TRACKERS.each do |name|
    t = Tracker.find_by(name: name) || Tracker.new(name: name)
    t.default_status ||= default_status
    t.save! if t.new_record? || t.changed?
    trackers[name] = t
  end

  # Workflows: a status change that no workflow transition allows is silently
  # ignored (HTTP 204, status unchanged), even for the admin, and a new tracker
  # has no transitions at all. Allow every transition (and every initial
  # status, old_status_id 0) for every tracker and every givable role.
  all_status_ids = IssueStatus.pluck(:id)
  roles = Role.givable.to_a
  all_trackers = Tracker.all.to_a
  existing = WorkflowTransition.where(tracker_id: all_trackers.map(&:id))
                               .pluck(:tracker_id, :role_id, :old_status_id, :new_status_id)
                               .map { |r| r.join(':') }.to_set
  rows = []
  all_trackers.each do |t|
    roles.each do |r|
      ([0] + all_status_ids).each do |old_id|
        all_status_ids.each do |new_id|
          next if old_id == new_id
          key = [t.id, r.id, old_id, new_id].join(':')
          next if existing.include?(key)
          rows << {type: 'WorkflowTransition', tracker_id: t.id, role_id: r.id,
                   old_status_id: old_id, new_status_id: new_id,
                   author: false, assignee: false}
        end
      end
    end
  end
  WorkflowTransition.insert_all(rows) unless rows.empty?

  # --- roles ---------------------------------------------------------------
  manager = Role.find_by(name: 'Manager') ||
            Role.create!(name: 'Manager', assignable: true, issues_visibility: 'all',
                         permissions: STAFF_PERMISSIONS)
  missing = STAFF_PERMISSIONS - manager.permissions
  manager.add_permission!(*missing) unless missing.empty?

  # --- project -------------------------------------------------------------
  project = Project.find_by(identifier: PROJECT_IDENTIFIER) ||
            Project.new(identifier: PROJECT_IDENTIFIER, name: PROJECT_NAME, is_public: false)
  project.name = PROJECT_NAME
  project.trackers = Tracker.all.to_a
  project.enabled_module_names = (project.enabled_module_names | ['issue_tracking'])
  project.save!

  # --- custom fields -------------------------------------------------------
  fields = {}
  CUSTOM_FIELDS.each do |name, format, opts|
    cf = IssueCustomField.find_by(name: name) ||
         IssueCustomField.new(name: name, field_format: format)
    cf.is_for_all = true
    cf.visible = true
    cf.editable = true
    cf.is_filter = true
    cf.searchable = %w[string text list].include?(format)
    cf.multiple = true if opts[:multiple]
    if opts[:possible_values]
      # keep existing values (and their order), add missing ones
      cf.possible_values = (Array(cf.possible_values) | opts[:possible_values])
    end
    cf.tracker_ids = (cf.tracker_ids | Tracker.pluck(:id))
    cf.save!
    fields[name] = cf
  end
  project.issue_custom_field_ids = (project.issue_custom_field_ids | fields.values.map(&:id))

  # --- users ---------------------------------------------------------------
  users = {}
  STAFF.each do |login, first, last|
    u = User.find_by_login(login)
    unless u
      u = User.new(firstname: first, lastname: last, mail: "#{login}@govhall.example")
      u.login = login
      u.password = STAFF_PASSWORD
      u.password_confirmation = STAFF_PASSWORD
      u.must_change_passwd = false
      u.status = User::STATUS_ACTIVE
      u.language = 'en'
      u.save!
    end
    u.update_column(:status, User::STATUS_ACTIVE) unless u.active?
    member = Member.find_by(project_id: project.id, user_id: u.id)
    if member.nil?
      Member.create!(project: project, principal: u, role_ids: [manager.id])
    elsif !member.role_ids.include?(manager.id)
      member.role_ids = member.role_ids | [manager.id]
      member.save!
    end
    users[login] = u
  end

  # --- admin ---------------------------------------------------------------
  admin = User.find_by_login('admin') || raise('no admin user')
  admin.update_column(:must_change_passwd, false) if admin.must_change_passwd?
  admin.update_column(:status, User::STATUS_ACTIVE) unless admin.active?

  info = {
    url: ENV['GOVHALL_REDMINE_URL'].to_s != '' ? ENV['GOVHALL_REDMINE_URL'] : nil,
    api_key: admin.api_key, # creates the API token when missing
    project_id: project.id,
    project_identifier: project.identifier,
    trackers: trackers.transform_values(&:id),
    statuses: statuses.transform_values(&:id),
    custom_fields: fields.transform_values(&:id),
    users: users.transform_values(&:id),
    user_api_keys: users.transform_values(&:api_key),
    staff_password: STAFF_PASSWORD,
    redmine_version: Redmine::VERSION.to_s
  }
  $stdout.puts JSON.generate(info)
end
